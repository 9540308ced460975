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
    // The JSON goes to the hasher as it is written (IrDocument.WriteDefinition flushes as it goes): never a buffer of the
    // whole document, which for a 10,000-step workflow is megabytes grown (and copied) by doubling, twice over.
    public static string Compute(AxlWorkflow wf) => ContentHash.OfWritten(wf, static (stream, w) => IrDocument.WriteDefinition(stream, w));
}
