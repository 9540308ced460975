using System.Text;

namespace Axl.Core.Tests.Compilers;

/// <summary>
/// Golden files: compiler output compared byte for byte with a file under tests/golden. On a difference the
/// failure shows a line diff; AXL_UPDATE_GOLDEN=1 re-records the file instead (review the change in git).
/// </summary>
public static class Golden
{
    public const string UpdateVariable = "AXL_UPDATE_GOLDEN";

    public static string RepoRoot { get; } = FindRoot();

    public static string Directory(string kind) => Path.Combine(RepoRoot, "tests", "golden", kind);

    public static bool Updating => Environment.GetEnvironmentVariable(UpdateVariable) == "1";

    /// <summary>Asserts that <paramref name="actual"/> is the content of tests/golden/&lt;relative&gt; (or records it with AXL_UPDATE_GOLDEN=1).</summary>
    public static void Match(string relative, string actual)
    {
        var path = Path.Combine(RepoRoot, "tests", "golden", relative);
        if (Updating)
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (!File.Exists(path) || File.ReadAllText(path) != actual) File.WriteAllText(path, actual, new UTF8Encoding(false));
            return;
        }
        if (!File.Exists(path))
            Assert.Fail($"golden file tests/golden/{relative} does not exist. Record it with {UpdateVariable}=1 dotnet test tests/Axl.Core.Tests, then review it.");
        var expected = File.ReadAllText(path);
        if (expected == actual) return;
        Assert.Fail($"the output differs from tests/golden/{relative} ('-' golden, '+' now). If the change is intended, re-record with {UpdateVariable}=1 and review the diff in git.\n" + Diff(expected, actual));
    }

    /// <summary>A unified-style line diff with 3 lines of context (LCS; golden files are small).</summary>
    public static string Diff(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
            for (int j = b.Length - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        var lines = new List<(char Op, string Text, int Line)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y]) { lines.Add((' ', a[x], x + 1)); x++; y++; }
            else if (y < b.Length && (x == a.Length || lcs[x, y + 1] >= lcs[x + 1, y])) { lines.Add(('+', b[y], y + 1)); y++; }
            else { lines.Add(('-', a[x], x + 1)); x++; }
        }
        var sb = new StringBuilder();
        var show = new bool[lines.Count];
        for (int i = 0; i < lines.Count; i++)
            if (lines[i].Op != ' ')
                for (int k = Math.Max(0, i - 3); k <= Math.Min(lines.Count - 1, i + 3); k++) show[k] = true;
        var skipped = false;
        for (int i = 0; i < lines.Count; i++)
        {
            if (!show[i]) { skipped = true; continue; }
            if (skipped) { sb.AppendLine("@@"); skipped = false; }
            sb.Append(lines[i].Op).Append(' ').Append(lines[i].Line.ToString().PadLeft(4)).Append(" | ").AppendLine(lines[i].Text);
        }
        return sb.ToString();
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "axl.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (axl.sln) above " + AppContext.BaseDirectory);
    }
}
