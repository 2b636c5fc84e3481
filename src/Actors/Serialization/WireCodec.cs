using System.Collections.Concurrent;
using System.Runtime.Serialization;
using Akka.Actor;
using MessagePack;

namespace Faultsim.Actors.Serialization;

/// <summary>What a codec needs besides the bytes: the actor system that turns an actor's path back into a reference.</summary>
internal sealed class WireContext(ExtendedActorSystem? system)
{
    public IActorRef Resolve(string path) =>
        system?.Provider.ResolveActorRef(path) ?? throw new SerializationException($"faultsim wire: no actor system to resolve {path}");
}

/// <summary>
/// How one CLR type looks on the wire, as MessagePack. Codecs are built once per type from its shape (see
/// <see cref="Codecs"/>) and never from a name a peer sends.
/// </summary>
internal abstract class Codec
{
    public abstract Type Type { get; }

    /// <summary>The wire shape, for the schema fingerprint: two builds whose shapes differ refuse each other's messages.</summary>
    public abstract string Shape(HashSet<Type> seen);
}

internal abstract class Codec<T> : Codec
{
    public override Type Type => typeof(T);

    public abstract void Write(ref MessagePackWriter writer, T value, WireContext context);

    public abstract T Read(ref MessagePackReader reader, WireContext context);
}

/// <summary>
/// The codecs of every type a message may hold: numbers, bools, strings and enums; nullable values; immutable arrays, lists
/// and dictionaries; value tuples; actor references (as their paths); and faultsim's own types — a one-value struct (an
/// address, an id, a PTE) as the bare number, a record or struct as the array of its constructor's values (then its
/// init-only properties), and a closed hierarchy (an abstract record, an interface) as [case, value] with the case's
/// index among the hierarchy's concrete types. Anything else is refused when its codec is built.
/// </summary>
internal static class Codecs
{
    private static readonly ConcurrentDictionary<Type, Codec> Built = new();

    public static Codec<T> For<T>() => (Codec<T>)For(typeof(T));

    public static Codec For(Type type) => Built.TryGetValue(type, out var codec) ? codec : Built.GetOrAdd(type, Build(type));

    private static Codec Build(Type type)
    {
        if (Primitives.Of(type) is { } primitive)
            return primitive;
        if (type.IsEnum)
            return Create(typeof(EnumCodec<>), type);
        if (Nullable.GetUnderlyingType(type) is { } underlying)
            return Create(typeof(NullableCodec<>), underlying);
        if (type.IsGenericType && Collections.Of(type) is { } collection)
            return collection;
        if (typeof(IActorRef).IsAssignableFrom(type) && (type.IsInterface || type.IsAbstract || type == typeof(IActorRef)))
            return new ActorRefCodec();
        if (IsValueTuple(type))
            return Create(typeof(RecordCodec<>), type);
        if (!IsOurs(type))
            throw new NotSupportedException($"faultsim wire: {type} has no wire shape (messages carry the model's values, immutable collections, strings and numbers)");
        if (OneValueCodec.Shape(type) is { } raw)
            return Create(typeof(OneValueCodec<,>), type, raw);
        if (type.IsAbstract || type.IsInterface)
            return Create(typeof(UnionCodec<>), type);
        return Create(typeof(RecordCodec<>), type);
    }

    public static bool IsOurs(Type type) => type.Namespace?.StartsWith("Faultsim", StringComparison.Ordinal) == true;

    private static bool IsValueTuple(Type type) =>
        type.IsValueType && type.IsGenericType && type.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true;

    public static Codec Create(Type generic, params Type[] arguments) =>
        (Codec)Activator.CreateInstance(generic.MakeGenericType(arguments))!;

    /// <summary>The shape of <paramref name="type"/>'s codec, or its name where the shape is being described already (a recursive type).</summary>
    public static string ShapeOf(Type type, HashSet<Type> seen) => seen.Add(type) ? For(type).Shape(seen) : Name(type);

    public static string Name(Type type) => type.IsGenericType
        ? $"{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(",", type.GetGenericArguments().Select(Name))}>"
        : type.FullName ?? type.Name;

    /// <summary>An error for bytes that do not have the shape this build expects.</summary>
    public static SerializationException Malformed(Type type, string what) => new($"faultsim wire: a {Name(type)} on the wire {what}");
}

/// <summary>An enum as the bits of its underlying integer.</summary>
internal sealed class EnumCodec<T> : Codec<T> where T : struct, Enum
{
    private static readonly int Size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    public override string Shape(HashSet<Type> seen) => $"{Codecs.Name(typeof(T))}:{Size}{{{string.Join(",", Enum.GetNames<T>())}}}";

    public override void Write(ref MessagePackWriter writer, T value, WireContext context)
    {
        if (Size == 8)
            writer.Write(System.Runtime.CompilerServices.Unsafe.As<T, ulong>(ref value));
        else
            writer.Write(Size switch
            {
                4 => System.Runtime.CompilerServices.Unsafe.As<T, int>(ref value),
                2 => System.Runtime.CompilerServices.Unsafe.As<T, short>(ref value),
                _ => System.Runtime.CompilerServices.Unsafe.As<T, sbyte>(ref value),
            });
    }

    public override T Read(ref MessagePackReader reader, WireContext context)
    {
        switch (Size)
        {
            case 8: { var raw = reader.ReadUInt64(); return System.Runtime.CompilerServices.Unsafe.As<ulong, T>(ref raw); }
            case 4: { var raw = reader.ReadInt32(); return System.Runtime.CompilerServices.Unsafe.As<int, T>(ref raw); }
            case 2: { var raw = reader.ReadInt16(); return System.Runtime.CompilerServices.Unsafe.As<short, T>(ref raw); }
            default: { var raw = reader.ReadSByte(); return System.Runtime.CompilerServices.Unsafe.As<sbyte, T>(ref raw); }
        }
    }
}

internal sealed class NullableCodec<T> : Codec<T?> where T : struct
{
    private readonly Codec<T> _value = Codecs.For<T>();

    public override string Shape(HashSet<Type> seen) => Codecs.ShapeOf(typeof(T), seen) + "?";

    public override void Write(ref MessagePackWriter writer, T? value, WireContext context)
    {
        if (value is { } v)
            _value.Write(ref writer, v, context);
        else
            writer.WriteNil();
    }

    public override T? Read(ref MessagePackReader reader, WireContext context) =>
        reader.TryReadNil() ? null : _value.Read(ref reader, context);
}

/// <summary>An actor reference as its full path (the receiving system resolves it); nil for none, "" for <see cref="ActorRefs.Nobody"/>.</summary>
internal sealed class ActorRefCodec : Codec<IActorRef?>
{
    public override Type Type => typeof(IActorRef);

    public override string Shape(HashSet<Type> seen) => "actor";

    public override void Write(ref MessagePackWriter writer, IActorRef? value, WireContext context)
    {
        if (value is null)
            writer.WriteNil();
        else if (value.IsNobody())
            writer.Write("");
        else
            writer.Write(Akka.Serialization.Serialization.SerializedActorPath(value));
    }

    public override IActorRef? Read(ref MessagePackReader reader, WireContext context)
    {
        if (reader.TryReadNil())
            return null;
        var path = reader.ReadString();
        return string.IsNullOrEmpty(path) ? ActorRefs.Nobody : context.Resolve(path);
    }
}
