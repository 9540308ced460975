namespace Axl.TestServices;

/// <summary>The state file `.ci/services.sh start` writes (KEY=value lines naming the running services), read by the fixtures.</summary>
public static class ServicesEnv
{
    /// <summary>$AXL_SERVICES_DIR/services.env, else .ci/.services/services.env in the repository.</summary>
    public static string File =>
        Path.Combine(Environment.GetEnvironmentVariable("AXL_SERVICES_DIR") is { Length: > 0 } d ? d : Path.Combine(S3rver.RepoRoot, ".ci", ".services"), "services.env");

    /// <summary>The KEY=value lines of a services.env file (empty when there is none).</summary>
    public static Dictionary<string, string> Read(string file)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!System.IO.File.Exists(file)) return result;
        foreach (var line in System.IO.File.ReadAllLines(file))
        {
            var eq = line.IndexOf('=');
            if (eq > 0) result[line[..eq]] = line[(eq + 1)..];
        }
        return result;
    }
}
