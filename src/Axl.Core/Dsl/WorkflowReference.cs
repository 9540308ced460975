namespace Axl.Dsl;

/// <summary>"file.axl.ps1" or "file.axl.ps1:Name" (the seed's module:Class). A drive letter's colon is never taken for the separator.</summary>
public readonly record struct WorkflowReference(string Path, string? Name)
{
    public static WorkflowReference Parse(string text, Func<string, bool>? exists = null)
    {
        exists ??= File.Exists;
        if (string.IsNullOrWhiteSpace(text)) throw new ArgumentException("A workflow reference needs a file path, e.g. flow.axl.ps1 or flow.axl.ps1:Name.");
        if (exists(text)) return new WorkflowReference(text, null);
        var colon = text.LastIndexOf(':');
        if (colon > 0 && colon < text.Length - 1)
        {
            var name = text[(colon + 1)..];
            var path = text[..colon];
            if (name.IndexOfAny(new[] { '/', '\\' }) < 0 && !(colon == 1 && char.IsLetter(text[0])))
                return new WorkflowReference(path, name);
        }
        return new WorkflowReference(text, null);
    }

    public override string ToString() => Name is null ? Path : $"{Path}:{Name}";
}
