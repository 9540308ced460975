using Axl.Model;
using Axl.Serialization;

namespace Axl.Hashing;

/// <summary>
/// The hash of a workflow's definition (<see cref="AxlWorkflow.DefinitionHash"/>): BLAKE3 (<see cref="ContentHash"/>) of the canonical compact JSON
/// of the IR without source locations. Same definition gives the same hash on any machine and path; any change to a
/// step, option, parameter or edge changes it. <see cref="AxlWorkflow.Hash"/> adds the code (<see cref="CodeTreeHasher"/>).
/// </summary>
public static class WorkflowHasher
{
    public static string Compute(AxlWorkflow wf)
    {
        using var ms = new MemoryStream();
        IrDocument.WriteDefinition(ms, wf);
        return ContentHash.Of(ms.GetBuffer().AsSpan(0, (int)ms.Length));
    }
}
