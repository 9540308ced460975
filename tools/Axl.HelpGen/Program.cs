using Axl.HelpGen;

// Axl.HelpGen --write | --check [--root <repository>]
//   --write  regenerates module/en-US/Axl.Cmdlets.dll-Help.xml from docs/cmdlets/*.md and the cmdlet classes,
//            then lists what is still wrong in the pages (exit 1 if anything).
//   --check  changes nothing; exit 1 listing every cmdlet without a page, undocumented or vanished parameter,
//            page without an example, and a MAML file that is not what --write would produce.
var mode = args.FirstOrDefault(a => a is "--write" or "--check");
string? root = null;
for (int i = 0; i < args.Length; i++)
    if (args[i] == "--root" && i + 1 < args.Length) root = args[++i];
if (mode is null || args.Any(a => a is "-h" or "--help"))
{
    Console.Error.WriteLine("usage: Axl.HelpGen --write | --check [--root <repository root>]");
    return mode is null ? 2 : 0;
}

root ??= FindRoot(Directory.GetCurrentDirectory()) ?? FindRoot(AppContext.BaseDirectory);
if (root is null)
{
    Console.Error.WriteLine("help: cannot find the repository root (a folder with axl.sln); pass --root.");
    return 2;
}

var cmdlets = CmdletReflector.Read(typeof(Axl.Cmdlets.AxlSessionState).Assembly);
var project = new HelpProject(Path.GetFullPath(root), cmdlets);
IReadOnlyList<string> problems;
if (mode == "--write")
{
    problems = project.Write();
    Console.WriteLine($"help: wrote {Path.GetRelativePath(project.Root, project.MamlPath)} ({project.Pair().Count} of {cmdlets.Count} cmdlets documented)");
}
else problems = project.Check();

foreach (var p in problems) Console.WriteLine("help: " + p);
if (problems.Count > 0)
{
    Console.WriteLine($"help: {problems.Count} problem(s)");
    return 1;
}
if (mode == "--check")
    Console.WriteLine($"help: up to date ({cmdlets.Count} cmdlets, {cmdlets.Sum(c => c.Parameters.Count)} parameters)");
return 0;

static string? FindRoot(string start)
{
    for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "axl.sln"))) return dir.FullName;
    return null;
}
