using System.Linq.Expressions;
using System.Reflection;
using Faultsim.Actors.Telemetry;
using MessagePack;

namespace Faultsim.Actors.Serialization;

/// <summary>
/// A record, class or struct as the MessagePack array of its values: the parameters of its widest public constructor (each
/// read back through the property or field of the same name), then its public init-only properties. Computed properties
/// stay home: the receiver computes them again. A type with no values and a static <c>Instance</c> comes back as that
/// singleton. A reference-typed value may be nil.
/// </summary>
internal sealed class RecordCodec<T> : Codec<T>
{
    private readonly Lazy<Member[]> _members = new(() => Describe(typeof(T)).Select(Member.Of).ToArray());
    private readonly Lazy<Func<object?[], T>> _create = new(Creator);
    private readonly Lazy<int> _trace;

    public RecordCodec() =>
        _trace = new(() => Array.FindIndex(_members.Value, m => m.Name == "Trace" && m.Type == typeof(TraceContext)));

    /// <summary>The index of the member a message's trace context is in (it travels in the envelope instead), or -1.</summary>
    public int TraceMember => _trace.Value;

    public override string Shape(HashSet<Type> seen) =>
        $"{Codecs.Name(typeof(T))}({string.Join(",", _members.Value.Select(m => m.Name + ":" + Codecs.ShapeOf(m.Type, seen)))})";

    public override void Write(ref MessagePackWriter writer, T value, WireContext context) => Write(ref writer, value, context, skip: -1);

    public override T Read(ref MessagePackReader reader, WireContext context) => Read(ref reader, context, skip: -1, skipped: null);

    /// <summary>Writes every member but the one at <paramref name="skip"/>.</summary>
    public void Write(ref MessagePackWriter writer, T value, WireContext context, int skip)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        var members = _members.Value;
        writer.WriteArrayHeader(skip < 0 ? members.Length : members.Length - 1);
        for (var i = 0; i < members.Length; i++)
            if (i != skip)
                members[i].Write(ref writer, value, context);
    }

    /// <summary>Reads every member but the one at <paramref name="skip"/>, which is <paramref name="skipped"/>.</summary>
    public T Read(ref MessagePackReader reader, WireContext context, int skip, object? skipped)
    {
        if (!typeof(T).IsValueType && reader.TryReadNil())
            return default!;
        var members = _members.Value;
        var count = reader.ReadArrayHeader();
        var expected = skip < 0 ? members.Length : members.Length - 1;
        if (count != expected)
            throw Codecs.Malformed(typeof(T), $"has {count} values where this build has {expected}");
        var values = new object?[members.Length];
        for (var i = 0; i < members.Length; i++)
            values[i] = i == skip ? skipped : members[i].Read(ref reader, context);
        return _create.Value(values);
    }

    /// <summary>The members in wire order: the constructor's parameters, then init-only properties.</summary>
    private static List<MemberInfo> Describe(Type type)
    {
        var constructor = Constructor(type);
        var members = new List<MemberInfo>();
        foreach (var parameter in constructor?.GetParameters() ?? [])
        {
            var member = (MemberInfo?)type.GetProperty(parameter.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                         ?? type.GetField(parameter.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (member is null || TypeOf(member) != parameter.ParameterType)
                throw new NotSupportedException($"faultsim wire: {type}'s constructor takes {parameter.Name}, which it does not expose as a property of that type");
            members.Add(member);
        }
        members.AddRange(type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod?.IsPublic == true && p.GetIndexParameters().Length == 0 && !members.Contains(p))
            .OrderBy(p => p.MetadataToken));
        return members;
    }

    private static ConstructorInfo? Constructor(Type type) =>
        type.GetConstructors(BindingFlags.Public | BindingFlags.Instance).OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();

    private static Type TypeOf(MemberInfo member) => member is PropertyInfo p ? p.PropertyType : ((FieldInfo)member).FieldType;

    private static Func<object?[], T> Creator()
    {
        var type = typeof(T);
        var constructor = Constructor(type);
        var members = Describe(type);
        if (members.Count == 0 && type.GetField("Instance", BindingFlags.Public | BindingFlags.Static) is { } instance && instance.FieldType == type)
        {
            var singleton = (T)instance.GetValue(null)!;
            return _ => singleton;
        }
        if (constructor is null && !type.IsValueType)
            throw new NotSupportedException($"faultsim wire: {type} has no public constructor");
        var values = Expression.Parameter(typeof(object?[]), "values");
        Expression Value(int index, Type target) => Expression.Convert(Expression.ArrayIndex(values, Expression.Constant(index)), target);
        var parameters = constructor?.GetParameters() ?? [];
        var create = constructor is null
            ? Expression.New(type)
            : Expression.New(constructor, parameters.Select((p, i) => Value(i, p.ParameterType)));
        var body = members.Count == parameters.Length
            ? (Expression)create
            : Expression.MemberInit(create, members.Skip(parameters.Length).Select((m, i) => Expression.Bind(m, Value(parameters.Length + i, TypeOf(m)))));
        return Expression.Lambda<Func<object?[], T>>(body, values).Compile();
    }

    /// <summary>One value of the record: how to read it off an instance, and its codec.</summary>
    private abstract class Member
    {
        protected Member(string name, Type type)
        {
            Name = name;
            Type = type;
        }

        public string Name { get; }

        public Type Type { get; }

        public abstract void Write(ref MessagePackWriter writer, T owner, WireContext context);

        public abstract object? Read(ref MessagePackReader reader, WireContext context);

        public static Member Of(MemberInfo info)
        {
            var type = TypeOf(info);
            var owner = Expression.Parameter(typeof(T), "owner");
            var getter = Expression.Lambda(typeof(Func<,>).MakeGenericType(typeof(T), type), Expression.MakeMemberAccess(owner, info), owner).Compile();
            return (Member)Activator.CreateInstance(typeof(Member<>).MakeGenericType(typeof(T), type), getter, info.Name)!;
        }
    }

    private sealed class Member<TValue>(Func<T, TValue> get, string name) : Member(name, typeof(TValue))
    {
        private readonly Func<T, TValue> _get = get;
        private readonly Codec<TValue> _codec = Codecs.For<TValue>();

        public override void Write(ref MessagePackWriter writer, T owner, WireContext context) => _codec.Write(ref writer, _get(owner), context);

        public override object? Read(ref MessagePackReader reader, WireContext context) => _codec.Read(ref reader, context);
    }
}
