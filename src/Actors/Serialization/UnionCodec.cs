using System.Linq.Expressions;
using System.Reflection;
using MessagePack;

namespace Faultsim.Actors.Serialization;

/// <summary>
/// A closed hierarchy (an abstract record such as Resolution, or an interface such as IPageMessage) as [case, value]: the
/// case is the index of the value's type among the hierarchy's concrete types in faultsim's assemblies, in the order of
/// their full names. The list is this build's own, so no type is ever looked up by a name that came over the wire.
/// </summary>
internal sealed class UnionCodec<T> : Codec<T>
{
    private readonly Lazy<Case[]> _cases = new(() => [.. Cases().Select(Case.Of)]);
    private readonly Lazy<Dictionary<Type, int>> _index;

    public UnionCodec() => _index = new(() => _cases.Value.Select((c, i) => (c.Type, i)).ToDictionary(c => c.Type, c => c.i));

    public override string Shape(HashSet<Type> seen) =>
        $"{Codecs.Name(typeof(T))}<{string.Join("|", _cases.Value.Select(c => Codecs.ShapeOf(c.Type, seen)))}>";

    public override void Write(ref MessagePackWriter writer, T value, WireContext context)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        if (!_index.Value.TryGetValue(value.GetType(), out var tag))
            throw new NotSupportedException($"faultsim wire: {value.GetType()} is not a case of {Codecs.Name(typeof(T))} this build knows");
        writer.WriteArrayHeader(2);
        writer.Write(tag);
        _cases.Value[tag].Write(ref writer, value, context);
    }

    public override T Read(ref MessagePackReader reader, WireContext context)
    {
        if (reader.TryReadNil())
            return default!;
        if (reader.ReadArrayHeader() != 2)
            throw Codecs.Malformed(typeof(T), "is not a [case, value] pair");
        var tag = reader.ReadInt32();
        var cases = _cases.Value;
        if (tag < 0 || tag >= cases.Length)
            throw Codecs.Malformed(typeof(T), $"names case {tag}, and this build has {cases.Length}");
        return cases[tag].Read(ref reader, context);
    }

    /// <summary>The concrete types of faultsim's assemblies that are a <typeparamref name="T"/>, by full name.</summary>
    private static IEnumerable<Type> Cases() =>
        new[] { typeof(T).Assembly, typeof(UnionCodec<>).Assembly, typeof(Faultsim.Model.Faults.Resolution).Assembly }
            .Distinct()
            .SelectMany(a => a.GetTypes())
            .Where(t => t is { IsAbstract: false, IsInterface: false, IsGenericTypeDefinition: false } && typeof(T).IsAssignableFrom(t) && Codecs.IsOurs(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    private abstract class Case(Type type)
    {
        public Type Type { get; } = type;

        public abstract void Write(ref MessagePackWriter writer, T value, WireContext context);

        public abstract T Read(ref MessagePackReader reader, WireContext context);

        public static Case Of(Type type) => (Case)Activator.CreateInstance(typeof(Case<>).MakeGenericType(typeof(T), type))!;
    }

    private sealed class Case<TCase> : Case where TCase : T
    {
        private readonly Codec<TCase> _codec = Codecs.For<TCase>();

        public Case() : base(typeof(TCase)) { }

        public override void Write(ref MessagePackWriter writer, T value, WireContext context) => _codec.Write(ref writer, (TCase)value!, context);

        public override T Read(ref MessagePackReader reader, WireContext context) => _codec.Read(ref reader, context);
    }
}

/// <summary>A one-value struct of the model (an address, a page number, an id, a PTE) as the bare number it wraps.</summary>
internal static class OneValueCodec
{
    /// <summary>The raw type the struct wraps, if it is such a struct: one public constructor of one integer, read back by the property of its name.</summary>
    public static Type? Shape(Type type)
    {
        if (!type.IsValueType)
            return null;
        var constructor = type.GetConstructors().SingleOrDefault(c => c.GetParameters().Length == 1);
        var parameter = constructor?.GetParameters()[0];
        if (parameter is null || Type.GetTypeCode(parameter.ParameterType) is not (TypeCode.UInt64 or TypeCode.UInt32 or TypeCode.Int64 or TypeCode.Int32) || parameter.ParameterType.IsEnum)
            return null;
        var property = type.GetProperty(parameter.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property?.PropertyType == parameter.ParameterType ? parameter.ParameterType : null;
    }
}

internal sealed class OneValueCodec<T, TRaw> : Codec<T> where T : struct
{
    private readonly Codec<TRaw> _raw = Codecs.For<TRaw>();
    private readonly Func<T, TRaw> _get;
    private readonly Func<TRaw, T> _create;

    public OneValueCodec()
    {
        var constructor = typeof(T).GetConstructors().Single(c => c.GetParameters().Length == 1);
        var property = typeof(T).GetProperty(constructor.GetParameters()[0].Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)!;
        var value = Expression.Parameter(typeof(T), "value");
        _get = Expression.Lambda<Func<T, TRaw>>(Expression.Property(value, property), value).Compile();
        var raw = Expression.Parameter(typeof(TRaw), "raw");
        _create = Expression.Lambda<Func<TRaw, T>>(Expression.New(constructor, raw), raw).Compile();
    }

    public override string Shape(HashSet<Type> seen) => $"{Codecs.Name(typeof(T))}={Codecs.ShapeOf(typeof(TRaw), seen)}";

    public override void Write(ref MessagePackWriter writer, T value, WireContext context) => _raw.Write(ref writer, _get(value), context);

    public override T Read(ref MessagePackReader reader, WireContext context) => _create(_raw.Read(ref reader, context));
}
