# Word stats: the promotion example of docs/images.md. A Python command step and a PowerShell script step.
#
#   counts -> frequent
#
# Develop with artifact delivery (Publish-AxlWorkflowCode, ConvertTo-ArgoWorkflow -CodeArchive): every pod
# downloads this folder. For production, bake it into an image (Build-AxlImage) and compile with -Image:
# the pods then need nothing but the image. See README.md.
#
# counts runs python3 on count_words.py (standard library only; command steps run in this folder, so
# the relative paths find the files here, locally and at /axl/workdir in a container).

AxlWorkflow word-stats -Description 'Counts the words of a text and keeps the most frequent ones' {
    Parameter TextFile -Default 'words.txt' -Type string -Description 'the text to count (relative to this folder, or absolute)'
    Parameter Top -Default 3 -Type int -Description 'how many words to keep'

    # "<count> <word>" lines, most frequent first (the step's standard output is its output).
    Step counts -Command python3 -ArgumentList 'count_words.py', '{TextFile}' -Timeout 60

    # The first $Top lines, as "word=count" lines.
    Step frequent -IoHandler text {
        param([string] $counts, [int] $Top)
        $counts -split '\r?\n' | Where-Object { $_ } | Select-Object -First $Top | ForEach-Object {
            $count, $word = $_.Trim() -split ' ', 2
            "$word=$count"
        } | Join-String -Separator "`n"
    }
}
