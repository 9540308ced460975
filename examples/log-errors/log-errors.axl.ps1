# Log errors: the job envelope example of the design (seed 003, "Extract errors from logs, count
# by severity": grep -i error | sort | uniq -c) as a workflow of command steps.
#
#   errors -> messages -> sorted -> counted -> ranked
#
# Every step runs one program with an argument array (never a shell string, so nothing is
# re-parsed by a shell). Placeholders in arguments:
#   {LogFile}  the value of the workflow parameter LogFile
# -Stdin <step> pipes that step's output file to the program's standard input, the envelope's
# input_from_task. Every step reads its predecessor on standard input (not through a {step} file
# placeholder), so the workflow converts to a job envelope as it is (ConvertTo-AxlJobEnvelope). A command step's standard output is its output (IO handler text).
# -Env LC_ALL=C makes sort and uniq compare bytes, so the result is the same on every machine.

AxlWorkflow log-errors -Description 'Extract the error lines of a log and count each kind' {
    # Command steps run in the workflow file's folder, so the relative default finds the sample next to this file.
    Parameter LogFile -Default 'sample.log' -Type string -Description 'the log file to scan (relative to this folder, or absolute)'

    # Task 1 of the envelope: every line that mentions an error, in any case.
    Step errors -Command grep -ArgumentList '-i', 'error', '{LogFile}' -Timeout 60

    # Drop the date and time (the first two space-separated fields) so repeats of one error are equal lines.
    Step messages -Command cut -ArgumentList '-d', ' ', '-f', '3-' -Stdin errors -Timeout 30

    # Task 2: sort, reading the previous step's output on standard input.
    Step sorted -Command sort -Stdin messages -Env @{ LC_ALL = 'C' } -Timeout 30

    # Task 3: count each distinct line.
    Step counted -Command uniq -ArgumentList '-c' -Stdin sorted -Env @{ LC_ALL = 'C' } -Timeout 30

    # Most frequent first; equal counts in byte order of the message.
    Step ranked -Command sort -ArgumentList '-k1,1nr', '-k2' -Stdin counted -Env @{ LC_ALL = 'C' } -Timeout 30
}
