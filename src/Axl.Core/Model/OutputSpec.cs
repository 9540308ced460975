namespace Axl.Model;

/// <summary>IO metadata of a step output: the handler that writes it and the file extension it gets.</summary>
public sealed record OutputSpec(string Name, string IoHandler, string Extension, string? Type)
{
    /// <summary>File name of the artifact, e.g. "output.clixml".</summary>
    public string FileName => Name + Extension;
    public override string ToString() => $"{FileName} ({IoHandler})";
}
