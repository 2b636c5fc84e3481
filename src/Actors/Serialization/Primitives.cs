using MessagePack;

namespace Faultsim.Actors.Serialization;

/// <summary>The codecs of numbers, bools and strings: MessagePack's own encodings (small numbers take one byte).</summary>
internal static class Primitives
{
    public static Codec? Of(Type type) => Type.GetTypeCode(type) switch
    {
        _ when type.IsEnum => null,
        TypeCode.Boolean => new Primitive<bool>("bool", (ref MessagePackWriter w, bool v) => w.Write(v), (ref MessagePackReader r) => r.ReadBoolean()),
        TypeCode.Byte => new Primitive<byte>("u8", (ref MessagePackWriter w, byte v) => w.Write(v), (ref MessagePackReader r) => r.ReadByte()),
        TypeCode.Int16 => new Primitive<short>("i16", (ref MessagePackWriter w, short v) => w.Write(v), (ref MessagePackReader r) => r.ReadInt16()),
        TypeCode.UInt16 => new Primitive<ushort>("u16", (ref MessagePackWriter w, ushort v) => w.Write(v), (ref MessagePackReader r) => r.ReadUInt16()),
        TypeCode.Int32 => new Primitive<int>("i32", (ref MessagePackWriter w, int v) => w.Write(v), (ref MessagePackReader r) => r.ReadInt32()),
        TypeCode.UInt32 => new Primitive<uint>("u32", (ref MessagePackWriter w, uint v) => w.Write(v), (ref MessagePackReader r) => r.ReadUInt32()),
        TypeCode.Int64 => new Primitive<long>("i64", (ref MessagePackWriter w, long v) => w.Write(v), (ref MessagePackReader r) => r.ReadInt64()),
        TypeCode.UInt64 => new Primitive<ulong>("u64", (ref MessagePackWriter w, ulong v) => w.Write(v), (ref MessagePackReader r) => r.ReadUInt64()),
        TypeCode.Double => new Primitive<double>("f64", (ref MessagePackWriter w, double v) => w.Write(v), (ref MessagePackReader r) => r.ReadDouble()),
        TypeCode.String => new Primitive<string?>("str", (ref MessagePackWriter w, string? v) => w.Write(v), (ref MessagePackReader r) => r.ReadString()),
        _ => null,
    };

    private delegate void WriteValue<in T>(ref MessagePackWriter writer, T value);

    private delegate T ReadValue<out T>(ref MessagePackReader reader);

    private sealed class Primitive<T>(string shape, WriteValue<T> write, ReadValue<T> read) : Codec<T>
    {
        public override string Shape(HashSet<Type> seen) => shape;
        public override void Write(ref MessagePackWriter writer, T value, WireContext context) => write(ref writer, value);
        public override T Read(ref MessagePackReader reader, WireContext context) => read(ref reader);
    }
}
