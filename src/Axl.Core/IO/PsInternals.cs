using System.Collections.ObjectModel;
using System.Collections.Specialized;
using System.Linq.Expressions;
using System.Management.Automation;
using System.Reflection;

namespace Axl.IO;

/// <summary>
/// Compiled accessors to the instance members of a PSObject (PowerShell 7: <c>PSObject._instanceMembers</c>, a
/// <c>PSMemberInfoInternalCollection</c> over an OrderedDictionary <c>_members</c>), so that the table handlers read the
/// note properties of a PSCustomObject by index and build rows without the member-resolution machinery of
/// <c>PSObject.Properties</c>. Resolved once by reflection; when the engine does not have these members (another
/// PowerShell version), <see cref="Available"/> is false and the handlers take the general path.
/// </summary>
internal static class PsInternals
{
    private const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private static readonly Func<PSObject, OrderedDictionary?>? MembersOf;
    private static readonly Func<int, PSObject>? NewObject;
    private static readonly Action<PSObject, PSMemberInfo>? AddMember;
    private static readonly Action<string>? SetHasInstanceMember;
    private static readonly Action<Type>? NoteTypeHasInstanceMember;
    private static readonly Func<PSMemberInfo, bool>? Hidden;
    private static readonly Func<PSObject, Collection<string>?>? TypeNamesField;

    static PsInternals()
    {
        try
        {
            var psObject = typeof(PSObject);
            var asm = psObject.Assembly;
            var instanceField = psObject.GetField("_instanceMembers", Any);
            var instanceProperty = psObject.GetProperty("InstanceMembers", Any);
            var collectionType = instanceField?.FieldType;
            var membersField = collectionType?.GetField("_members", Any);
            var add = collectionType?.GetMethod("Add", Any, new[] { collectionType.GetGenericArguments()[0], typeof(bool) });
            var replicate = typeof(PSMemberInfo).GetMethod("ReplicateInstance", Any, new[] { typeof(object) });
            var ctor = psObject.GetConstructor(Any, new[] { typeof(int) });
            var binder = asm.GetType("System.Management.Automation.Language.PSGetMemberBinder");
            var setHas = binder?.GetMethod("SetHasInstanceMember", Any, new[] { typeof(string) });
            var assignBinder = asm.GetType("System.Management.Automation.Language.PSVariableAssignmentBinder");
            var noteType = assignBinder?.GetMethod("NoteTypeHasInstanceMemberOrTypeName", Any, new[] { typeof(Type) });
            var isHidden = typeof(PSMemberInfo).GetProperty("IsHidden", Any);
            var typeNamesField = psObject.GetField("_typeNames", Any);
            if (typeNamesField is not null && typeof(Collection<string>).IsAssignableFrom(typeNamesField.FieldType))
            {
                var p = Expression.Parameter(typeof(PSObject), "p");
                TypeNamesField = Expression.Lambda<Func<PSObject, Collection<string>?>>(
                    Expression.Convert(Expression.Field(p, typeNamesField), typeof(Collection<string>)), p).Compile();
            }
            if (isHidden is null || instanceField is null || instanceProperty is null || membersField is null || membersField.FieldType != typeof(OrderedDictionary)
                || add is null || replicate is null || ctor is null || setHas is null || noteType is null)
                return;

            // o => o._instanceMembers == null ? null : o._instanceMembers._members
            var o = Expression.Parameter(typeof(PSObject), "o");
            var coll = Expression.Variable(collectionType!, "c");
            MembersOf = Expression.Lambda<Func<PSObject, OrderedDictionary?>>(
                Expression.Block(new[] { coll },
                    Expression.Assign(coll, Expression.Field(o, instanceField)),
                    Expression.Condition(Expression.Equal(coll, Expression.Constant(null, collectionType!)),
                        Expression.Constant(null, typeof(OrderedDictionary)),
                        Expression.Field(coll, membersField))), o).Compile();

            var mi = Expression.Parameter(typeof(PSMemberInfo), "mi");
            Hidden = Expression.Lambda<Func<PSMemberInfo, bool>>(Expression.Property(mi, isHidden), mi).Compile();

            var n = Expression.Parameter(typeof(int), "n");
            NewObject = Expression.Lambda<Func<int, PSObject>>(Expression.New(ctor, n), n).Compile();

            // (o, m) => { m.ReplicateInstance(o); o.InstanceMembers.Add(m, preValidated: true); }
            var m = Expression.Parameter(typeof(PSMemberInfo), "m");
            AddMember = Expression.Lambda<Action<PSObject, PSMemberInfo>>(
                Expression.Block(
                    Expression.Call(m, replicate, o),
                    Expression.Call(Expression.Property(o, instanceProperty), add, m, Expression.Constant(true))), o, m).Compile();

            var s = Expression.Parameter(typeof(string), "s");
            SetHasInstanceMember = Expression.Lambda<Action<string>>(Expression.Call(setHas, s), s).Compile();
            var t = Expression.Parameter(typeof(Type), "t");
            NoteTypeHasInstanceMember = Expression.Lambda<Action<Type>>(Expression.Call(noteType, t), t).Compile();

            // Check that it works as expected on this engine before trusting it.
            var probe = new PSObject();
            probe.Properties.Add(new PSNoteProperty("a", 1));
            if (MembersOf(probe) is not { Count: 1 } d || d[0] is not PSNoteProperty { Name: "a" }) { MembersOf = null; return; }
            var built = NewObject(1);
            AddMember(built, new PSNoteProperty("b", 2));
            if (built.Properties["b"]?.Value is not 2 || built.BaseObject is not PSCustomObject) { NewObject = null; AddMember = null; }
        }
        catch (Exception)
        {
            MembersOf = null;
            NewObject = null;
            AddMember = null;
        }
    }

    /// <summary>True when note properties can be read by index (<see cref="Members"/>).</summary>
    public static bool CanReadMembers => MembersOf is not null && Hidden is not null;

    /// <summary>
    /// The type names an object carries of its own, or null when it has the default ones of its base type (reading
    /// PSObject.TypeNames would make and store them for each object: a weak-table entry per row).
    /// </summary>
    public static Collection<string>? OwnTypeNames(PSObject o) => TypeNamesField is { } f ? f(o) : o.TypeNames;

    /// <summary>PSMemberInfo.IsHidden (reserved member sets such as psobject, added to an object once they are used).</summary>
    public static bool IsHidden(PSMemberInfo m) => Hidden!(m);

    /// <summary>True when rows can be built without PSObject.Properties.Add (<see cref="RowBuilder"/>).</summary>
    public static bool CanBuildRows => !BuildRowsThroughProperties && NewObject is not null && AddMember is not null && SetHasInstanceMember is not null;

    /// <summary>Set by the bench (by reflection) to measure the former way of building rows: PSObject.Properties.Add.</summary>
    internal static volatile bool BuildRowsThroughProperties;

    /// <summary>The instance members of a PSObject in order (hidden reserved members included), or null when it has none.</summary>
    public static OrderedDictionary? Members(PSObject o) => MembersOf!(o);

    /// <summary>
    /// Builds PSCustomObjects with the same note properties (names fixed at construction), as
    /// <c>o.Properties.Add(new PSNoteProperty(name, value))</c> does, minus the checks that cannot fail on a new object
    /// with distinct names: the member is added to the instance members pre-validated, and the binders are told once
    /// per name that instances now carry it (what Properties.Add tells them on every call).
    /// </summary>
    public sealed class RowBuilder
    {
        private readonly string[] _names;
        private readonly bool _fast;

        public RowBuilder(IReadOnlyList<string> names)
        {
            _names = names.ToArray();
            var distinct = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            _fast = CanBuildRows && _names.All(n => !string.IsNullOrEmpty(n) && distinct.Add(n) && !IsReserved(n));
            if (!_fast) return;
            foreach (var name in _names) SetHasInstanceMember!(name);
            NoteTypeHasInstanceMember!(typeof(PSCustomObject));
        }

        /// <summary>True when rows are built through the instance members directly (else through PSObject.Properties.Add).</summary>
        public bool Fast => _fast;

        /// <summary>A new PSCustomObject with one note property per name; <paramref name="value"/> gives the value of column c.</summary>
        public PSObject Build<TState>(TState state, Func<TState, int, object?> value)
        {
            if (!_fast)
            {
                var slow = new PSObject();
                for (var c = 0; c < _names.Length; c++) slow.Properties.Add(new PSNoteProperty(_names[c], value(state, c)));
                return slow;
            }
            var o = NewObject!(_names.Length);
            for (var c = 0; c < _names.Length; c++) AddMember!(o, new PSNoteProperty(_names[c], value(state, c)));
            return o;
        }

        // Names PowerShell reserves for its own member sets: Properties.Add refuses them; leave that error to it.
        private static bool IsReserved(string n) =>
            n.Equals("psobject", StringComparison.OrdinalIgnoreCase) || n.Equals("psbase", StringComparison.OrdinalIgnoreCase)
            || n.Equals("psadapted", StringComparison.OrdinalIgnoreCase) || n.Equals("psextended", StringComparison.OrdinalIgnoreCase)
            || n.Equals("pstypenames", StringComparison.OrdinalIgnoreCase);
    }
}
