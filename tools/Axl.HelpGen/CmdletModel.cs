using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Reflection;

namespace Axl.HelpGen;

/// <summary>What the code says about one cmdlet: the part of its help that must never be written by hand.</summary>
public sealed record CmdletModel(
    string Name,
    string Verb,
    string Noun,
    Type Type,
    IReadOnlyList<string> Aliases,
    IReadOnlyList<ParameterModel> Parameters,
    IReadOnlyList<string> ParameterSets,
    IReadOnlyList<Type> OutputTypes,
    string? HelpUri = null)
{
    /// <summary>The parameters of one set, in syntax order: positional ones by position, then the others in declaration order.</summary>
    public IEnumerable<(ParameterModel Parameter, ParameterSetEntry Entry)> InSet(string set) =>
        Parameters.Select(p => (Parameter: p, Entry: p.Entry(set)))
            .Where(t => t.Entry is not null)
            .Select(t => (t.Parameter, t.Entry!))
            .OrderBy(t => t.Item2.Position < 0 ? 1 : 0)
            .ThenBy(t => t.Item2.Position)
            .ThenBy(t => t.Parameter.Order);

    /// <summary>The element types of the parameters that take pipeline input by value.</summary>
    public IReadOnlyList<Type> PipelineInputTypes =>
        Parameters.Where(p => p.Sets.Any(s => s.ByValue)).Select(p => ElementType(p.Type)).Distinct().OrderBy(t => t.FullName, StringComparer.Ordinal).ToList();

    internal static Type ElementType(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return t.IsArray ? t.GetElementType()! : t;
    }
}

/// <summary>One parameter as reflection sees it.</summary>
public sealed record ParameterModel(
    string Name,
    Type Type,
    IReadOnlyList<string> Aliases,
    bool SupportsWildcards,
    IReadOnlyList<string>? ValidValues,
    string DefaultValue,
    IReadOnlyList<ParameterSetEntry> Sets,
    int Order,
    bool Synthetic = false)
{
    public bool IsSwitch => Type == typeof(SwitchParameter);

    public ParameterSetEntry? Entry(string set) =>
        Sets.FirstOrDefault(s => s.SetName == set) ?? Sets.FirstOrDefault(s => s.SetName == ParameterAttribute.AllParameterSets);

    /// <summary>For the PARAMETERS section (one entry for all sets): required when mandatory in any set it belongs to.</summary>
    public bool Required => Sets.Any(s => s.Mandatory);

    /// <summary>The lowest position it has in any set, or -1 (named).</summary>
    public int Position => Sets.Where(s => s.Position >= 0).Select(s => s.Position).DefaultIfEmpty(-1).Min();

    public string PipelineInput => PipelineText(Sets.Any(s => s.ByValue), Sets.Any(s => s.ByPropertyName));

    internal static string PipelineText(bool byValue, bool byName) => (byValue, byName) switch
    {
        (true, true) => "True (ByValue, ByPropertyName)",
        (true, false) => "True (ByValue)",
        (false, true) => "True (ByPropertyName)",
        _ => "False",
    };
}

/// <summary>A parameter's attributes in one parameter set (from one [Parameter] attribute).</summary>
public sealed record ParameterSetEntry(string SetName, bool Mandatory, int Position, bool ByValue, bool ByPropertyName);

/// <summary>Reads [Cmdlet] types with reflection only: nothing is invoked except each cmdlet's parameterless constructor (for default values).</summary>
public static class CmdletReflector
{
    public static IReadOnlyList<CmdletModel> Read(Assembly assembly) =>
        assembly.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && t.GetCustomAttribute<CmdletAttribute>() is not null)
            .Select(Read)
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList();

    public static CmdletModel Read(Type type)
    {
        var attr = type.GetCustomAttribute<CmdletAttribute>()!;
        var name = attr.VerbName + "-" + attr.NounName;
        var aliases = type.GetCustomAttribute<AliasAttribute>()?.AliasNames.ToList() ?? new List<string>();
        object? instance = null;
        try { instance = Activator.CreateInstance(type); }
        catch (Exception) { /* no parameterless constructor: defaults are shown as None */ }

        var members = type.GetMembers(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m is PropertyInfo or FieldInfo)
            .Where(m => m.GetCustomAttributes<ParameterAttribute>().Any())
            .OrderBy(m => Depth(m.DeclaringType!))
            .ThenBy(m => m.MetadataToken)
            .ToList();

        var parameters = new List<ParameterModel>();
        int order = 0;
        foreach (var m in members)
        {
            var ptype = m is PropertyInfo pi ? pi.PropertyType : ((FieldInfo)m).FieldType;
            var sets = m.GetCustomAttributes<ParameterAttribute>()
                .Select(a => new ParameterSetEntry(a.ParameterSetName, a.Mandatory, a.Position == int.MinValue ? -1 : a.Position, a.ValueFromPipeline, a.ValueFromPipelineByPropertyName))
                .OrderBy(s => s.SetName, StringComparer.Ordinal)
                .ToList();
            parameters.Add(new ParameterModel(
                m.Name,
                ptype,
                m.GetCustomAttributes<AliasAttribute>().SelectMany(a => a.AliasNames).ToList(),
                m.GetCustomAttribute<SupportsWildcardsAttribute>() is not null,
                m.GetCustomAttribute<ValidateSetAttribute>()?.ValidValues.ToList(),
                DefaultText(instance, m),
                sets,
                order++));
        }

        if (attr.SupportsShouldProcess)
        {
            // The engine adds these two; PowerShell help documents them like any other parameter.
            parameters.Add(Synthetic("WhatIf", new[] { "wi" }, order++));
            parameters.Add(Synthetic("Confirm", new[] { "cf" }, order++));
        }

        var named = parameters.SelectMany(p => p.Sets).Select(s => s.SetName).Where(s => s != ParameterAttribute.AllParameterSets).Distinct().ToList();
        var setNames = named.Count == 0
            ? new List<string> { ParameterAttribute.AllParameterSets }
            : named.OrderBy(s => s == attr.DefaultParameterSetName ? 0 : 1).ThenBy(s => s, StringComparer.Ordinal).ToList();

        var outputs = type.GetCustomAttributes<OutputTypeAttribute>()
            .SelectMany(o => o.Type)
            .Select(t => t.Type)
            .Where(t => t is not null)
            .Select(t => t!)
            .Distinct()
            .ToList();

        return new CmdletModel(name, attr.VerbName, attr.NounName, type, aliases, parameters, setNames, outputs, string.IsNullOrEmpty(attr.HelpUri) ? null : attr.HelpUri);
    }

    private static ParameterModel Synthetic(string name, string[] aliases, int order) =>
        new(name, typeof(SwitchParameter), aliases, false, null, "False",
            new[] { new ParameterSetEntry(ParameterAttribute.AllParameterSets, false, -1, false, false) }, order, Synthetic: true);

    private static int Depth(Type t)
    {
        int d = 0;
        for (var b = t.BaseType; b is not null; b = b.BaseType) d++;
        return d;
    }

    private static string DefaultText(object? instance, MemberInfo m)
    {
        object? value;
        try
        {
            value = instance is null ? null : m is PropertyInfo pi ? pi.GetValue(instance) : ((FieldInfo)m).GetValue(instance);
        }
        catch (Exception)
        {
            return "None";
        }
        return value switch
        {
            null => "None",
            SwitchParameter s => s.IsPresent ? "True" : "False",
            bool b => b ? "True" : "False",
            string s => s.Length == 0 ? "None" : s,
            ICollection c when c.Count == 0 => "None",
            ICollection c => string.Join(", ", c.Cast<object?>().Select(x => Convert.ToString(x, CultureInfo.InvariantCulture))),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "None",
        };
    }

    /// <summary>The short name Get-Help shows in syntax: String, String[], Int32, AxlWorkflow[], SwitchParameter.</summary>
    public static string ShortName(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t.IsArray) return ShortName(t.GetElementType()!) + "[]";
        if (!t.IsGenericType) return t.Name;
        var baseName = t.Name[..t.Name.IndexOf('`')];
        return baseName + "[" + string.Join(", ", t.GetGenericArguments().Select(ShortName)) + "]";
    }

    /// <summary>The full name shown under a parameter's type, inputs and outputs: System.String[], Axl.Model.AxlWorkflow.</summary>
    public static string FullName(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t.IsArray) return FullName(t.GetElementType()!) + "[]";
        if (!t.IsGenericType) return t.FullName ?? t.Name;
        var def = t.GetGenericTypeDefinition().FullName!;
        return def[..def.IndexOf('`')] + "[" + string.Join(", ", t.GetGenericArguments().Select(FullName)) + "]";
    }
}
