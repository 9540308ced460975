using System.Collections;
using System.Management.Automation;
using System.Text;
using System.Text.RegularExpressions;
using Axl.Model;

namespace Axl.Dsl;

/// <summary>
/// Runs a Graph { } block symbolically: every step becomes a function that records its call and returns an
/// <see cref="AxlOutputRef"/>, every workflow parameter a variable holding an <see cref="AxlParameterRef"/>.
/// No step body runs.
/// </summary>
public static partial class GraphEvaluator
{
    public static void Evaluate(WorkflowBuilder builder, SessionState session)
    {
        if (builder.GraphBlock is null) return;
        var script = new StringBuilder();
        script.AppendLine("param($__axlRecorder, $__axlGraph, $__axlParams)");
        script.AppendLine("& {");
        script.AppendLine("foreach ($__axlP in $__axlParams) { $ExecutionContext.SessionState.PSVariable.Set($__axlP.Name, $__axlP) }");
        foreach (var step in builder.StepDefinitions)
        {
            if (!FunctionNameRegex().IsMatch(step.Name)) continue;
            var sig = SafeSignature(step);
            var paramList = string.Join(", ", sig.Parameters.Where(p => VariableNameRegex().IsMatch(p.Name)).Select(p => "${" + p.Name + "}"));
            script.Append("function ").Append(step.Name).Append(" { param(").Append(paramList).Append(") ")
                  .Append("$__axlRecorder.Call('").Append(step.Name).AppendLine("', $PSBoundParameters, $MyInvocation.ScriptName, $MyInvocation.ScriptLineNumber) }");
        }
        script.AppendLine(". $__axlGraph");
        script.AppendLine("}");
        var recorder = new Recorder(builder);
        var parameters = builder.ParameterDefinitions.Select(p => new AxlParameterRef(p.Name)).ToArray();
        session.InvokeCommand.InvokeScript(session, ScriptBlock.Create(script.ToString()), recorder, builder.GraphBlock, parameters);
    }

    private static StepSignature SafeSignature(StepDefinition d)
    {
        try
        {
            if (d.HasBody) return StepSignature.FromAst(d.BodyAst);
            if (d.BodyText is not null) return StepSignature.FromText(d.BodyText);
        }
        catch (ParseException) { }
        return StepSignature.Empty;
    }

    /// <summary>Called from the generated step functions.</summary>
    public sealed class Recorder
    {
        private readonly WorkflowBuilder _builder;
        internal Recorder(WorkflowBuilder builder) => _builder = builder;

        public AxlOutputRef Call(string step, IDictionary bound, string? file, int line)
        {
            var args = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
            foreach (DictionaryEntry e in bound) args[(string)e.Key] = e.Value is PSObject p ? p.BaseObject : e.Value;
            return _builder.RecordGraphCall(step, args, new SourceLocation(string.IsNullOrEmpty(file) ? null : file, line));
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_-]*$")]
    private static partial Regex FunctionNameRegex();
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableNameRegex();
}
