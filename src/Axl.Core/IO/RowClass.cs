using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Management.Automation;
using System.Reflection;
using System.Reflection.Emit;
using System.Security.Cryptography;
using System.Text;

namespace Axl.IO;

/// <summary>
/// The rows that the table handlers read back (parquet, arrow, csv): one .NET class per column set, made at run time
/// (System.Reflection.Emit), with one typed field and one public get/set property per column in the file's order, so that
/// a row is one allocation (plus its strings) instead of a PSObject, its member collection and a boxed note per value.
/// PowerShell binds <c>$row.Name</c>, Select-Object, Where-Object, Sort-Object, Format-*, Export-Csv, ConvertTo-Json and
/// the CliXml serializer to .NET properties as it does to note properties; <see cref="object.ToString"/> gives the
/// <c>@{Id=1; Name=x}</c> text of a PSCustomObject. The class is named <c>Axl.Rows.Row_&lt;hash of the column set&gt;</c>
/// (the same in every process). A column set that cannot make a class (an empty or reserved name, names equal but for
/// case, more than <see cref="MaxColumns"/> columns) gets null from <see cref="For"/>: the caller builds PSCustomObjects.
/// </summary>
internal sealed class RowClass
{
    public const int MaxColumns = 4096;
    private const int MaxClasses = 1024;

    private static readonly ConcurrentDictionary<string, RowClass?> Cache = new();
    private static readonly object EmitLock = new();
    private static ModuleBuilder? _module;

    private static readonly HashSet<string> ObjectMembers = new(StringComparer.OrdinalIgnoreCase)
    {
        "Equals", "GetHashCode", "GetType", "ToString", "MemberwiseClone", "Finalize", "ReferenceEquals",
        // PowerShell's own member sets: a property of that name would hide them.
        "psobject", "psbase", "psadapted", "psextended", "pstypenames",
    };

    private readonly Action<Array[], int, object?[], int> _fill;
    private readonly Func<object, object?>[] _getters;

    private RowClass(Type type, string[] names, Type[] fieldTypes)
    {
        Type = type;
        Names = names;
        FieldTypes = fieldTypes;
        _fill = CompileFill(type, fieldTypes);
        _getters = type.GetProperties().Select(CompileGetter).ToArray();
        type.GetField(TextField, BindingFlags.Public | BindingFlags.Static)!.SetValue(null, new Func<object, string>(Text));
    }

    /// <summary>The generated class.</summary>
    public Type Type { get; }

    /// <summary>Column names, in order: the properties of <see cref="Type"/>.</summary>
    public string[] Names { get; }

    /// <summary>The type of each property: the element type of the column arrays <see cref="Fill"/> takes.</summary>
    public Type[] FieldTypes { get; }

    /// <summary>Set by tests (on their thread): read tables as PSCustomObject rows, as before (<see cref="TableRows.ClassesAllowed"/>).</summary>
    [ThreadStatic] internal static bool Disabled;

    /// <summary>
    /// The class for these columns (made once per process, then shared), or null when these names cannot be properties of
    /// one class; <paramref name="fieldTypes"/> are the element types of the column arrays (long?, string, DateTime?, ...).
    /// </summary>
    public static RowClass? For(IReadOnlyList<string> names, IReadOnlyList<Type> fieldTypes)
    {
        if (names.Count == 0 || names.Count > MaxColumns || names.Count != fieldTypes.Count) return null;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var n in names)
            if (string.IsNullOrEmpty(n) || n.Contains('\0') || ObjectMembers.Contains(n) || !seen.Add(n)) return null;
        var key = Signature(names, fieldTypes);
        if (Cache.TryGetValue(key, out var known)) return known;
        lock (EmitLock)
        {
            if (Cache.TryGetValue(key, out known)) return known;
            RowClass? made = null;
            if (Cache.Count < MaxClasses)
            {
                try { made = new RowClass(Emit(key, names, fieldTypes), names.ToArray(), fieldTypes.ToArray()); }
                catch (Exception ex) when (ex is ArgumentException or TypeLoadException or NotSupportedException or InvalidOperationException) { made = null; }
            }
            Cache[key] = made;
            return made;
        }
    }

    /// <summary>
    /// Makes <paramref name="count"/> rows into <paramref name="dest"/> from <paramref name="offset"/>: row r has, for
    /// each column c, <c>columns[c][r]</c> (arrays of exactly <see cref="FieldTypes"/>[c] elements).
    /// </summary>
    public void Fill(Array[] columns, int count, object?[] dest, int offset)
    {
        if (columns.Length != FieldTypes.Length) throw new ArgumentException($"{columns.Length} columns given, the row class has {FieldTypes.Length}.", nameof(columns));
        for (var c = 0; c < columns.Length; c++)
            if (columns[c].GetType().GetElementType() != FieldTypes[c] || columns[c].Length < count)
                throw new ArgumentException($"Column {c} ('{Names[c]}') is {columns[c].GetType()} of {columns[c].Length}; the row class needs {FieldTypes[c]}[] of at least {count}.", nameof(columns));
        if (dest.Length - offset < count) throw new ArgumentException("The destination is too short.", nameof(dest));
        _fill(columns, count, dest, offset);
    }

    /// <summary>The value of column <paramref name="column"/> of a row of this class, boxed as PowerShell sees it.</summary>
    public object? Get(object row, int column) => _getters[column](row);

    // PowerShell's text of a PSCustomObject with the same notes ("@{Id=1; Name=x}"), built only when asked for.
    private string Text(object row)
    {
        var o = new PSObject();
        for (var c = 0; c < Names.Length; c++) o.Properties.Add(new PSNoteProperty(Names[c], Get(row, c)));
        return o.ToString();
    }

    private const string TextField = "__AxlText";

    private static string Signature(IReadOnlyList<string> names, IReadOnlyList<Type> types)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < names.Count; i++) sb.Append(names[i].Length).Append(':').Append(names[i]).Append('=').Append(types[i].FullName).Append(';');
        return sb.ToString();
    }

    private static Type Emit(string key, IReadOnlyList<string> names, IReadOnlyList<Type> types)
    {
        _module ??= AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("Axl.Rows"), AssemblyBuilderAccess.Run).DefineDynamicModule("Axl.Rows");
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..12].ToLowerInvariant();
        var tb = _module.DefineType("Axl.Rows.Row_" + hash, TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class | TypeAttributes.BeforeFieldInit);
        tb.DefineDefaultConstructor(MethodAttributes.Public);
        var text = tb.DefineField(TextField, typeof(Func<object, string>), FieldAttributes.Public | FieldAttributes.Static);
        const MethodAttributes accessor = MethodAttributes.Public | MethodAttributes.SpecialName | MethodAttributes.HideBySig;
        for (var i = 0; i < names.Count; i++)
        {
            var field = tb.DefineField("_c" + i, types[i], FieldAttributes.Private);
            var prop = tb.DefineProperty(names[i], PropertyAttributes.None, types[i], null);
            var get = tb.DefineMethod("get_" + names[i], accessor, types[i], Type.EmptyTypes);
            var il = get.GetILGenerator();
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldfld, field);
            il.Emit(OpCodes.Ret);
            var set = tb.DefineMethod("set_" + names[i], accessor, null, new[] { types[i] });
            il = set.GetILGenerator();
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Stfld, field);
            il.Emit(OpCodes.Ret);
            prop.SetGetMethod(get);
            prop.SetSetMethod(set);
        }
        // public override string ToString() => __AxlText(this);
        var toString = tb.DefineMethod("ToString", MethodAttributes.Public | MethodAttributes.Virtual | MethodAttributes.HideBySig, typeof(string), Type.EmptyTypes);
        var t = toString.GetILGenerator();
        t.Emit(OpCodes.Ldsfld, text);
        t.Emit(OpCodes.Ldarg_0);
        t.Emit(OpCodes.Callvirt, typeof(Func<object, string>).GetMethod("Invoke")!);
        t.Emit(OpCodes.Ret);
        tb.DefineMethodOverride(toString, typeof(object).GetMethod(nameof(ToString), Type.EmptyTypes)!);
        return tb.CreateType()!;
    }

    /// <summary>(columns, count, dest, offset) => { T0[] c0 = (T0[])columns[0]; ...; for (r...) dest[offset + r] = new Row { P0 = c0[r], ... }; }</summary>
    private static Action<Array[], int, object?[], int> CompileFill(Type type, Type[] fieldTypes)
    {
        var columns = Expression.Parameter(typeof(Array[]), "columns");
        var count = Expression.Parameter(typeof(int), "count");
        var dest = Expression.Parameter(typeof(object[]), "dest");
        var offset = Expression.Parameter(typeof(int), "offset");
        var r = Expression.Variable(typeof(int), "r");
        var locals = new List<ParameterExpression> { r };
        var body = new List<Expression>();
        var props = type.GetProperties();
        var bindings = new MemberBinding[fieldTypes.Length];
        for (var c = 0; c < fieldTypes.Length; c++)
        {
            var local = Expression.Variable(fieldTypes[c].MakeArrayType(), "c" + c);
            locals.Add(local);
            body.Add(Expression.Assign(local, Expression.Convert(Expression.ArrayIndex(columns, Expression.Constant(c)), local.Type)));
            bindings[c] = Expression.Bind(props[c], Expression.ArrayIndex(local, r));
        }
        var end = Expression.Label("end");
        body.Add(Expression.Assign(r, Expression.Constant(0)));
        body.Add(Expression.Loop(
            Expression.IfThenElse(Expression.LessThan(r, count),
                Expression.Block(
                    Expression.Assign(Expression.ArrayAccess(dest, Expression.Add(offset, r)),
                        Expression.Convert(Expression.MemberInit(Expression.New(type), bindings), typeof(object))),
                    Expression.PostIncrementAssign(r)),
                Expression.Break(end)),
            end));
        return Expression.Lambda<Action<Array[], int, object?[], int>>(Expression.Block(locals, body), columns, count, dest, offset).Compile();
    }

    private static Func<object, object?> CompileGetter(PropertyInfo p)
    {
        var o = Expression.Parameter(typeof(object), "o");
        return Expression.Lambda<Func<object, object?>>(Expression.Convert(Expression.Property(Expression.Convert(o, p.DeclaringType!), p), typeof(object)), o).Compile();
    }
}

/// <summary>
/// The rows of a table being read, a batch (row group, record batch) of typed columns at a time: instances of the
/// <see cref="RowClass"/> of the columns, or PSCustomObjects when there is none (or when the bench asks for the former way).
/// Each batch's columns can be dropped once added: the rows hold the values.
/// </summary>
internal sealed class TableRows
{
    private readonly RowClass? _class;
    private readonly PsInternals.RowBuilder? _builder;
    private object?[] _rows;
    private int _count;

    /// <summary>
    /// False when rows are to be PSCustomObjects (set by tests on their thread, or by the bench): read it on the caller's
    /// thread and pass it on, since parquet and arrow read on the thread pool.
    /// </summary>
    public static bool ClassesAllowed => !RowClass.Disabled && !PsInternals.BuildRowsThroughProperties;

    public TableRows(IReadOnlyList<string> names, IReadOnlyList<Type> fieldTypes, bool classes, long expectedRows = 0)
    {
        _class = classes ? RowClass.For(names, fieldTypes) : null;
        if (_class is null) _builder = new PsInternals.RowBuilder(names);
        _rows = new object?[(int)Math.Clamp(expectedRows, 0, Array.MaxLength)];
    }

    /// <summary>The row class, or null when the rows are PSCustomObjects.</summary>
    public RowClass? Class => _class;

    /// <summary>Adds <paramref name="count"/> rows from typed column arrays (the element types given to the constructor).</summary>
    public void Add(Array[] columns, int count)
    {
        if (count <= 0) return;
        if (_rows.Length - _count < count)
        {
            var grown = new object?[Math.Max(checked(_count + count), (int)Math.Min(Array.MaxLength, _rows.Length * 2L))];
            Array.Copy(_rows, grown, _count);
            _rows = grown;
        }
        if (_class is not null) _class.Fill(columns, count, _rows, _count);
        else
            for (var r = 0; r < count; r++)
                _rows[_count + r] = _builder!.Build((columns, r), static (s, c) => s.columns[c].GetValue(s.r));
        _count += count;
    }

    public object?[] ToArray()
    {
        if (_rows.Length == _count) return _rows;
        var result = new object?[_count];
        Array.Copy(_rows, result, _count);
        return result;
    }
}
