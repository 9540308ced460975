using System.Globalization;
using Axl.Model;
using Axl.Runner;

namespace Axl.Compilers.Argo;

public static partial class ArgoCompiler
{
    private sealed partial class Compilation
    {
        /// <summary>
        /// The YAML of <see cref="StepTemplate"/>'s map as a list item at <paramref name="itemIndent"/>
        /// (<see cref="CompilerYaml.Render"/>'s text), written straight from the step: a split compile writes one per
        /// step, and the map tree (a dozen maps and lists, the manifest's record) made only to be walked once was most of
        /// its time and garbage. Null for what this writer leaves to the tree: a code archive, S3 output keys, a warm
        /// environment, secrets, resources, or a value that is not printable ASCII. The tests compare it with the tree's
        /// YAML on every step of every golden workflow.
        /// </summary>
        /// <param name="dataUpstream">The step's <see cref="DataUpstream"/> (null on a shared volume): made once for the template, the task and the items.</param>
        private ReadOnlyMemory<char>? StepTemplateYaml(AxlStep s, int itemIndent, List<AxlStep>? dataUpstream)
        {
            if (_code is not null || _storage.Kind == ArgoStorageKind.S3 || _wf.Options.WarmEnv || s.Secrets.Count > 0 || !s.Resources.IsEmpty) return null;
            var manifest = CompilerSteps.Manifest(_wf, s, _layout, _code, _codeRoot);
            var volume = _storage.Kind == ArgoStorageKind.Volume;
            var parameters = ParametersUsed(s);
            var image = CompilerSteps.ImageOf(_wf, s, _o.Image);
            AddImage(image);

            var i = itemIndent + 2; // the map's entries
            var w = CompilerYaml.Lines.Start().Pair(i, "name", s.KubernetesName);
            if (parameters.Count > 0 || dataUpstream is { Count: > 0 })
            {
                w.Key(i, "inputs");
                if (parameters.Count > 0)
                {
                    w.Key(i + 2, "parameters");
                    foreach (var p in parameters) w.ItemPair(i + 4, "name", p.Name);
                }
                if (dataUpstream is { Count: > 0 })
                {
                    w.Key(i + 2, "artifacts");
                    foreach (var u in dataUpstream) w.ItemPair(i + 4, "name", u.KubernetesName).Pair(i + 6, "path", _layout.InputDirectory(u));
                }
            }
            if (manifest.Output.ValueFile is not null || !volume)
            {
                w.Key(i, "outputs");
                if (manifest.Output.ValueFile is { } valueFile)
                    w.Key(i + 2, "parameters").ItemPair(i + 4, "name", ValueParameter).Key(i + 6, "valueFrom").Pair(i + 8, "path", valueFile);
                if (!volume) w.Key(i + 2, "artifacts").ItemPair(i + 4, "name", OutputArtifact).Pair(i + 6, "path", manifest.Output.Directory);
            }
            if (s.Retries > 0)
                w.Key(i, "retryStrategy")
                    .Pair(i + 2, "limit", s.Retries.ToString(CultureInfo.InvariantCulture))
                    .Pair(i + 2, "retryPolicy", "Always")
                    .Key(i + 2, "backoff").Pair(i + 4, "duration", "1s").Pair(i + 4, "factor", "2");
            if (s.TimeoutSeconds is { } t)
                w.Pair(i, "activeDeadlineSeconds", ((long)t + _o.DeadlineGraceSeconds).ToString(CultureInfo.InvariantCulture));

            w.Key(i, "container").Pair(i + 2, "name", ContainerName).Pair(i + 2, "image", image)
                .Key(i + 2, "command").Item(i + 4, CompilerSteps.RunnerCommand)
                .Key(i + 2, "args");
            foreach (var arg in CompilerSteps.RunnerArgsBeforeManifest(workflowArchive: null)) w.Item(i + 4, (string)arg!);
            w.Item(i + 4, manifest.CompactJsonChars()); // copied in from the thread's buffer: no string per step
            if (s.Env.Count > 0 || parameters.Count > 0)
            {
                w.Key(i + 2, "env");
                var env = s.Env.Concat(parameters.Select(p =>
                    new KeyValuePair<string, string>(ManifestBuilder.ParameterEnvironmentVariable(_wf, p), "{{inputs.parameters." + p.Name + "}}")));
                foreach (var (name, value) in env.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.ItemPair(i + 4, "name", name).Pair(i + 6, "value", value);
            }
            if (volume) w.Key(i + 2, "volumeMounts").ItemPair(i + 4, "name", VolumeName).Pair(i + 6, "mountPath", DataRoot);
            return w.Kept;
        }

        /// <summary>
        /// The YAML of the unsplit DAG task of <paramref name="s"/> (<see cref="Task(AxlStep, Part?)"/> without a part) as
        /// a list item at <paramref name="itemIndent"/>, written straight from the step as <see cref="StepTemplateYaml"/>
        /// is. Null for what it leaves to the tree: a condition, an upstream step that may be skipped (depends), a warm
        /// environment, or a value that is not printable ASCII.
        /// </summary>
        /// <param name="dataUpstream">The step's <see cref="DataUpstream"/>, null on a shared volume.</param>
        private ReadOnlyMemory<char>? TaskYaml(AxlStep s, int itemIndent, List<AxlStep>? dataUpstream)
        {
            if (s.Condition is not null || _wf.Options.WarmEnv) return null;
            foreach (var u in s.Upstream)
                if (_maySkip.Contains(u)) return null;
            var parameters = ParametersUsed(s);

            var i = itemIndent + 2;
            var w = CompilerYaml.Lines.Start().Pair(i, "name", s.KubernetesName).Pair(i, "template", s.KubernetesName);
            if (s.Upstream.Count > 0)
            {
                w.Key(i, "dependencies");
                foreach (var u in s.Upstream) w.Item(i + 2, _wf.GetStep(u)!.KubernetesName);
            }
            if (parameters.Count > 0 || dataUpstream is { Count: > 0 })
            {
                w.Key(i, "arguments");
                if (parameters.Count > 0)
                {
                    w.Key(i + 2, "parameters");
                    foreach (var p in parameters) w.ItemPair(i + 4, "name", p.Name).Pair(i + 6, "value", "{{workflow.parameters." + p.Name + "}}");
                }
                if (dataUpstream is { Count: > 0 })
                {
                    w.Key(i + 2, "artifacts");
                    foreach (var u in dataUpstream)
                        w.ItemPair(i + 4, "name", u.KubernetesName).Pair(i + 6, "from", "{{tasks." + u.KubernetesName + ".outputs.artifacts." + OutputArtifact + "}}");
                }
            }
            return w.Kept;
        }
    }
}
