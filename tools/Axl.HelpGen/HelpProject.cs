using System.Text;
using System.Text.RegularExpressions;

namespace Axl.HelpGen;

/// <summary>
/// The help of the module as files in the repository: the pages (docs/cmdlets), the generated MAML and the
/// about topic (module/en-US). <see cref="Check"/> lists everything stale or missing; <see cref="Write"/> regenerates.
/// </summary>
public sealed partial class HelpProject
{
    public const string MamlFileName = "Axl.Cmdlets.dll-Help.xml";
    public const string AboutFileName = "about_Axl.help.txt";

    public HelpProject(string root, IReadOnlyList<CmdletModel> cmdlets)
    {
        Root = root;
        Cmdlets = cmdlets;
    }

    public string Root { get; }
    public IReadOnlyList<CmdletModel> Cmdlets { get; }
    public string DocsDirectory => Path.Combine(Root, "docs", "cmdlets");
    public string HelpDirectory => Path.Combine(Root, "module", "en-US");
    public string MamlPath => Path.Combine(HelpDirectory, MamlFileName);
    public string AboutPath => Path.Combine(HelpDirectory, AboutFileName);

    /// <summary>The page files: docs/cmdlets/Verb-Noun.md (README.md and other names are not pages).</summary>
    public IReadOnlyList<string> PageFiles =>
        Directory.Exists(DocsDirectory)
            ? Directory.GetFiles(DocsDirectory, "*.md").Where(f => PageNameRegex().IsMatch(Path.GetFileName(f))).OrderBy(f => f, StringComparer.Ordinal).ToList()
            : new List<string>();

    /// <summary>Each cmdlet with its page, for the cmdlets that have one.</summary>
    public List<(CmdletModel Cmdlet, HelpPage Page)> Pair()
    {
        var result = new List<(CmdletModel, HelpPage)>();
        foreach (var c in Cmdlets)
        {
            var file = Path.Combine(DocsDirectory, c.Name + ".md");
            if (File.Exists(file)) result.Add((c, HelpPage.Load(file)));
        }
        return result;
    }

    public string GenerateMaml() => MamlWriter.Write(Pair());

    /// <summary>Writes the MAML file; returns the problems that remain in the pages.</summary>
    public IReadOnlyList<string> Write()
    {
        Directory.CreateDirectory(HelpDirectory);
        File.WriteAllText(MamlPath, GenerateMaml(), new UTF8Encoding(false));
        return Check().Where(p => !p.StartsWith(StalePrefix, StringComparison.Ordinal)).ToList();
    }

    private const string StalePrefix = "stale: ";

    /// <summary>Everything that makes the help wrong or incomplete, one line each; empty when all is in sync.</summary>
    public IReadOnlyList<string> Check()
    {
        var problems = new List<string>();
        string Rel(string path) => Path.GetRelativePath(Root, path).Replace('\\', '/');
        var cmdletNames = Cmdlets.Select(c => c.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);

        foreach (var c in Cmdlets)
            if (!File.Exists(Path.Combine(DocsDirectory, c.Name + ".md")))
                problems.Add($"missing: {c.Name} has no page; write {Rel(Path.Combine(DocsDirectory, c.Name + ".md"))} (copy the shape of another page)");
        foreach (var file in PageFiles)
        {
            var name = Path.GetFileNameWithoutExtension(file);
            var exact = Cmdlets.FirstOrDefault(c => c.Name == name);
            if (exact is null)
                problems.Add(cmdletNames.Contains(name)
                    ? $"stale page: {Rel(file)} differs in case from the cmdlet {Cmdlets.First(c => c.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Name}"
                    : $"stale page: {Rel(file)} documents {name}, which is not a cmdlet of Axl.Cmdlets (renamed or removed?)");
        }

        foreach (var (c, page) in Pair())
        {
            var where = Rel(page.File);
            foreach (var p in page.Problems) problems.Add($"{where}: {p}");
            if (page.Title != c.Name) problems.Add($"{where}: the title is '# {page.Title}', expected '# {c.Name}'");
            if (page.Synopsis.Count == 0) problems.Add($"{where}: the SYNOPSIS is empty");
            else if (page.Synopsis.Count > 1) problems.Add($"{where}: the SYNOPSIS must be one paragraph");
            if (page.Description.Count == 0) problems.Add($"{where}: the DESCRIPTION is empty");

            // Parameters: every real one documented, nothing documented that does not exist.
            var real = c.Parameters.Where(p => !p.Synthetic).Select(p => p.Name).ToList();
            var documented = page.Parameters.Select(p => p.Name).ToList();
            foreach (var name in real)
                if (!documented.Contains(name, StringComparer.OrdinalIgnoreCase))
                    problems.Add($"{where}: undocumented parameter -{name} of {c.Name}; add a '### -{name}' section under PARAMETERS");
            foreach (var name in documented)
                if (!real.Contains(name, StringComparer.OrdinalIgnoreCase) && !c.Parameters.Any(p => p.Synthetic && p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
                    problems.Add($"{where}: documents parameter -{name}, which {c.Name} does not have (renamed or removed?)");
                else if (!real.Contains(name, StringComparer.Ordinal) && real.Contains(name, StringComparer.OrdinalIgnoreCase))
                    problems.Add($"{where}: parameter '### -{name}' is spelled -{real.First(r => r.Equals(name, StringComparison.OrdinalIgnoreCase))} in the code");
            foreach (var dup in documented.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
                problems.Add($"{where}: parameter -{dup.Key} is documented twice");
            foreach (var (name, text) in page.Parameters)
                if (text.Count == 0) problems.Add($"{where}: parameter -{name} has no text");

            // Get-Help -Online opens the cmdlet's page in the repository's docs folder.
            var helpUri = Axl.Cmdlets.AxlHelp.OnlineBase + c.Name + ".md";
            if (c.HelpUri != helpUri)
                problems.Add($"{where}: {c.Name} has HelpUri '{c.HelpUri}'; set HelpUri = AxlHelp.OnlineBase + \"{c.Name}.md\" in its [Cmdlet] attribute");

            if (page.Examples.Count == 0) problems.Add($"{where}: no example; add '### Example 1: title' under EXAMPLES with a ```powershell block");

            // Inputs: every type taken from the pipeline by value is listed; "None" only when nothing is.
            var inputTypes = c.PipelineInputTypes.Select(CmdletReflector.FullName).ToList();
            var documentedInputs = page.Inputs.Select(i => i.Type).ToList();
            if (documentedInputs.Count == 0) problems.Add($"{where}: INPUTS lists nothing; write '### None' when the cmdlet takes no pipeline input");
            foreach (var t in inputTypes)
                if (!documentedInputs.Contains(t, StringComparer.Ordinal))
                    problems.Add($"{where}: INPUTS does not list {t}, which {c.Name} takes from the pipeline; add '### {t}'");
            if (inputTypes.Count > 0 && documentedInputs.Contains("None"))
                problems.Add($"{where}: INPUTS says None, but {c.Name} takes {string.Join(", ", inputTypes)} from the pipeline");

            // Outputs: exactly the [OutputType] types, or None when there are none.
            var outputTypes = c.OutputTypes.Select(CmdletReflector.FullName).ToList();
            var documentedOutputs = page.Outputs.Select(o => o.Type).ToList();
            var expected = outputTypes.Count == 0 ? new List<string> { "None" } : outputTypes;
            foreach (var t in expected.Where(t => !documentedOutputs.Contains(t, StringComparer.Ordinal)))
                problems.Add(outputTypes.Count == 0
                    ? $"{where}: OUTPUTS must be '### None': {c.Name} has no [OutputType]"
                    : $"{where}: OUTPUTS does not list {t} from [OutputType] of {c.Name}; add '### {t}'");
            foreach (var t in documentedOutputs.Where(t => !expected.Contains(t, StringComparer.Ordinal)))
                problems.Add($"{where}: OUTPUTS lists {t}, which is not in the [OutputType] of {c.Name} ({(outputTypes.Count == 0 ? "none" : string.Join(", ", outputTypes))})");

            // Related links that name an Axl cmdlet must name one that exists.
            foreach (var (text, _) in page.Links)
                if (CmdletNameRegex().IsMatch(text) && text.Contains("-Axl", StringComparison.Ordinal) && !cmdletNames.Contains(text))
                    problems.Add($"{where}: related link '{text}' names no cmdlet of the module");
        }

        // The generated file must be what the pages and the code give today.
        if (!File.Exists(MamlPath)) problems.Add($"{StalePrefix}{Rel(MamlPath)} does not exist; run: dotnet run --project tools/Axl.HelpGen -- --write");
        else if (Normalize(File.ReadAllText(MamlPath)) != Normalize(GenerateMaml()))
            problems.Add($"{StalePrefix}{Rel(MamlPath)} is out of date with the pages or the cmdlet code; run: dotnet run --project tools/Axl.HelpGen -- --write");

        // The about topic: hand-written, but it must exist and name every keyword and cmdlet.
        if (!File.Exists(AboutPath)) problems.Add($"missing: {Rel(AboutPath)} (the about_Axl topic)");
        else
        {
            var about = File.ReadAllText(AboutPath);
            var lines = Normalize(about).Split('\n');
            if (lines.Length < 2 || lines[0].Trim() != "TOPIC" || lines[1].Trim() != "about_Axl")
                problems.Add($"{Rel(AboutPath)}: must start with the lines 'TOPIC' and '    about_Axl'");
            foreach (var c in Cmdlets)
            {
                if (!about.Contains(c.Name, StringComparison.Ordinal)) problems.Add($"{Rel(AboutPath)}: does not mention the cmdlet {c.Name}");
                foreach (var alias in c.Aliases)
                    if (!Regex.IsMatch(about, @"\b" + Regex.Escape(alias) + @"\b")) problems.Add($"{Rel(AboutPath)}: does not mention the keyword {alias} (alias of {c.Name})");
            }
            for (int i = 0; i < lines.Length; i++)
                if (lines[i].Length > 80) problems.Add($"{Rel(AboutPath)}:{i + 1}: line is {lines[i].Length} characters; about topics keep to 80");
        }
        return problems;
    }

    private static string Normalize(string s) => s.Replace("\r\n", "\n");

    [GeneratedRegex(@"^[A-Za-z]+-[A-Za-z0-9]+\.md$")]
    private static partial Regex PageNameRegex();
    [GeneratedRegex(@"^[A-Z][a-z]+-[A-Za-z0-9]+$")]
    private static partial Regex CmdletNameRegex();
}
