using System.Collections;
using System.Management.Automation;
using Axl.Compilers.Argo;
using Axl.Jobs;
using Xunit;

namespace Axl.Core.Tests.Jobs;

/// <summary>
/// The job options of Submit-AxlJob and Start-AxlExperiment: built from hashtables (what a cast or a parameter does),
/// merged in layers (flat parameters over -Option over $AxlJobOption), and applied to the submit options the targets read.
/// </summary>
public sealed class AxlJobOptionTests
{
    private static Hashtable H(params (string Key, object? Value)[] entries)
    {
        var h = new Hashtable(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in entries) h[k] = v;
        return h;
    }

    private static JobSubmitOptions Base() => new() { RunRoot = "/runs" };

    [Fact]
    public void A_hashtable_of_sections_sets_their_options_converting_values_as_PowerShell_does()
    {
        var o = new AxlJobOption(H(
            ("argo", H(("namespace", "team-a"), ("MaxPollFailures", "5"), ("PollInterval", 3), ("Split", "none"), ("MaxBytes", PSObject.AsPSObject(2048L)))),
            ("Queue", H(("Endpoint", "localhost:6379"), ("PollInterval", "00:00:00.250"), ("Protocol", "agq"))),
            ("KFP", H(("Endpoint", "http://kfp:8888")))));
        Assert.Equal("team-a", o.Argo.Namespace);
        Assert.Equal(5, o.Argo.MaxPollFailures);
        Assert.Equal(TimeSpan.FromSeconds(3), o.Argo.PollInterval); // a number is seconds, not ticks
        Assert.Equal("None", o.Argo.Split);                        // the casing of the allowed value
        Assert.Equal(2048L, o.Argo.MaxBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.Queue.PollInterval);
        Assert.Equal("Agq", o.Queue.Protocol);
        Assert.Equal("http://kfp:8888", o.Kfp.Endpoint);
        Assert.Null(o.Argo.KubeConfig);
        Assert.Equal("Argo: Namespace=team-a, MaxBytes=2048, Split=None, PollInterval=00:00:03, MaxPollFailures=5; Queue: Endpoint=localhost:6379, Protocol=Agq, PollInterval=00:00:00.2500000; Kfp: Endpoint=http://kfp:8888", o.ToString());
        Assert.Equal("(defaults)", new AxlJobOption().ToString());
    }

    [Fact]
    public void An_unknown_section_or_option_or_a_bad_value_names_it_and_what_is_valid()
    {
        var section = Assert.Throws<AxlJobOptionException>(() => new AxlJobOption(H(("Argos", H()))));
        Assert.Equal("AxlJobOption has no section 'Argos'. Valid sections: Argo, Queue, Kfp (each a hashtable of its options, e.g. @{ Argo = @{ Namespace = 'team-a' } }).", section.Message);
        var option = Assert.Throws<AxlJobOptionException>(() => new AxlJobOption(H(("Kfp", H(("Url", "http://x"))))));
        Assert.Equal("Kfp has no option 'Url'. Valid options of Kfp: Endpoint, Token, PollInterval.", option.Message);
        Assert.Equal("Kfp.Url", option.Key);
        Assert.Contains("Argo.Split must be one of Auto, None; got 'Sometimes'.", Assert.Throws<AxlJobOptionException>(() => new AxlJobOption(H(("Argo", H(("Split", "Sometimes")))))).Message);
        Assert.Contains("Argo.MaxTemplates must be at least 3; got 2.", Assert.Throws<AxlJobOptionException>(() => new AxlJobOption(H(("Argo", H(("MaxTemplates", 2)))))).Message);
        Assert.Contains("Argo.MaxPollFailures: cannot use 'many' as a whole number", Assert.Throws<AxlJobOptionException>(() => new AxlJobOption(H(("Argo", H(("MaxPollFailures", "many")))))).Message);
        Assert.Contains("'soon' is not a time span", Assert.Throws<AxlJobOptionException>(() => new AxlJobOption(H(("Queue", H(("PollInterval", "soon")))))).Message);
        Assert.Contains("Argo must be a hashtable of its options (valid: KubeConfig, ", Assert.Throws<AxlJobOptionException>(() => new AxlJobOption(H(("Argo", "team-a")))).Message);
        Assert.Contains("at least 1 ms", Assert.Throws<AxlJobOptionException>(() => new ArgoJobOption { PollInterval = TimeSpan.FromTicks(5) }).Message);
        Assert.Contains("is not job options", Assert.Throws<AxlJobOptionException>(() => AxlJobOption.From(42)).Message);
    }

    [Fact]
    public void From_takes_the_object_a_hashtable_or_nothing()
    {
        var o = new AxlJobOption();
        Assert.Same(o, AxlJobOption.From(new PSObject(o)));
        Assert.Equal("x", AxlJobOption.From(H(("Argo", H(("Namespace", "x")))))!.Argo.Namespace);
        Assert.Null(AxlJobOption.From(null));
    }

    [Fact]
    public void Later_layers_win_option_by_option_and_each_option_says_where_it_came_from()
    {
        var preference = new AxlJobOption(H(("Argo", H(("Namespace", "pref"), ("Image", "pref-image"), ("MaxPollFailures", 7))), ("Kfp", H(("Endpoint", "http://pref")))));
        var option = new AxlJobOption(H(("Argo", H(("Namespace", "option"), ("Shutdown", "Terminate")))));
        var flat = new AxlJobOption(H(("Argo", H(("Namespace", "flat")))));
        var sources = new Dictionary<string, string>();
        var merged = AxlJobOption.Merge(new (AxlJobOption?, string)[] { (preference, "$AxlJobOption"), (option, "-Option"), (null, "none"), (flat, "parameter") }, sources);

        Assert.Equal("flat", merged.Argo.Namespace);
        Assert.Equal("Terminate", merged.Argo.Shutdown);
        Assert.Equal("pref-image", merged.Argo.Image);
        Assert.Equal(7, merged.Argo.MaxPollFailures);
        Assert.Equal("http://pref", merged.Kfp.Endpoint);
        Assert.Equal("Argo.Namespace=flat (parameter), Argo.Image=pref-image ($AxlJobOption), Argo.Shutdown=Terminate (-Option), Argo.MaxPollFailures=7 ($AxlJobOption), Kfp.Endpoint=http://pref ($AxlJobOption)", merged.Describe(sources));
        // The layers themselves are not changed.
        Assert.Equal("pref", preference.Argo.Namespace);
        Assert.Equal("option", option.Argo.Namespace);
        Assert.NotSame(preference.Argo, merged.Argo);
    }

    [Fact]
    public void Secrets_are_not_shown()
    {
        var o = new AxlJobOption(H(("Kfp", H(("Token", "s3cret"))), ("Queue", H(("SessionKey", "k3y")))));
        Assert.DoesNotContain("s3cret", o.ToString());
        Assert.DoesNotContain("k3y", o.ToString());
        Assert.DoesNotContain("s3cret", o.Describe(new Dictionary<string, string>()));
        Assert.Equal("s3cret", o.Kfp.Token);
    }

    [Fact]
    public void Applied_options_reach_what_the_targets_read_and_empty_ones_keep_the_defaults()
    {
        var o = new AxlJobOption(H(
            ("Argo", H(("KubeConfig", "kc"), ("KubeContext", "ctx"), ("Namespace", "ns"), ("Image", "img"), ("MaxTemplates", 50), ("MaxDagTasks", 40),
                       ("MaxInputParameters", 30), ("Split", "None"), ("Parallelism", 4), ("Shutdown", "Terminate"), ("PollInterval", 1), ("MaxPollFailures", 3))),
            ("Queue", H(("Endpoint", "redis:1"), ("Stream", "s"), ("KeyPrefix", "p:"))),
            ("Kfp", H(("Endpoint", "http://k"), ("Token", "t"), ("PollInterval", 2)))));
        var applied = o.ApplyTo(Base(), p => "/abs/" + p);
        var argo = applied.Argo!;
        Assert.Equal(("/abs/kc", "ctx", "ns", "Terminate", TimeSpan.FromSeconds(1), 3), (argo.KubeConfig, argo.Context, argo.Namespace, argo.Shutdown, argo.PollInterval, argo.MaxPollFailures));
        Assert.Equal(("img", 50, 40, 30, ArgoSplit.None, (int?)4), (argo.Compile.Image, argo.Compile.MaxTemplates, argo.Compile.MaxDagTasks, argo.Compile.MaxInputParameters, argo.Compile.Split, argo.Compile.Parallelism));
        Assert.Equal(ArgoCompileOptions.DefaultMaxBytes, argo.Compile.MaxBytes);
        Assert.Equal(("redis:1", "s", "p:", "axl-workers"), (applied.QueueEndpoint, applied.QueueOptions!.Stream, applied.QueueOptions.KeyPrefix, applied.QueueOptions.Group));
        Assert.Equal(("http://k", "t", (TimeSpan?)TimeSpan.FromSeconds(2)), (applied.KfpEndpoint, applied.KfpToken, applied.KfpPollInterval));
        Assert.Equal("/runs", applied.RunRoot);

        // Nothing set: the defaults of the targets, and no endpoint (the targets then read the environment).
        var none = new AxlJobOption().ApplyTo(Base());
        Assert.Equal((30, TimeSpan.FromSeconds(2), "Stop"), (none.Argo!.MaxPollFailures, none.Argo.PollInterval, none.Argo.Shutdown));
        Assert.Equal(ArgoCompileOptions.Default, none.Argo.Compile);
        Assert.Null(none.QueueEndpoint);
        Assert.Null(none.QueueOptions);
        Assert.Null(none.KfpEndpoint);
        Assert.Null(none.Argo.KubeConfig);
    }
}
