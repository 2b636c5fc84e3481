using System.Buffers;
using System.Diagnostics;
using Akka.Actor;
using Akka.Serialization;

namespace Faultsim.Actors.Serialization;

/// <summary>
/// The engine's wire format: every <see cref="ISimulationMessage"/> as MessagePack in the envelope of
/// <see cref="WireFormat"/> (format version, schema fingerprint, W3C traceparent), with its manifest from the fixed
/// <see cref="MessageTable"/>. A manifest not in the table, another format version or another schema is refused with a
/// <see cref="System.Runtime.Serialization.SerializationException"/> that says which; no type is loaded by a name off the wire.
/// </summary>
public sealed class MessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>The HOCON that binds every simulation message to this serializer.</summary>
    public const string Config = """
        akka.actor {
          serializers.faultsim = "Faultsim.Actors.Serialization.MessageSerializer, Faultsim.Actors"
          serialization-bindings { "Faultsim.Actors.ISimulationMessage, Faultsim.Actors" = faultsim }
          serialization-identifiers { "Faultsim.Actors.Serialization.MessageSerializer, Faultsim.Actors" = 7301 }
        }
        """;

    [ThreadStatic] private static ArrayBufferWriter<byte>? _buffer;

    private readonly WireContext _context = new(system);

    public override int Identifier => 7301;

    public override string Manifest(object o) => MessageTable.ManifestOf(o.GetType());

    /// <summary>Where every serializer of this process counts its work while a benchmark measures it; null (the default): nothing counted.</summary>
    public static WireMeter? Meter { get; set; }

    public override byte[] ToBinary(object obj)
    {
        var meter = Meter;
        var start = meter is null ? 0 : Stopwatch.GetTimestamp();
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        WireFormat.Encode(buffer, obj, _context);
        var bytes = buffer.WrittenSpan.ToArray();
        meter?.Encoded(bytes.Length, Stopwatch.GetTimestamp() - start);
        return bytes;
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var meter = Meter;
        var start = meter is null ? 0 : Stopwatch.GetTimestamp();
        var message = WireFormat.Decode(bytes, manifest, _context);
        meter?.Decoded(Stopwatch.GetTimestamp() - start);
        return message;
    }
}

/// <summary>
/// What faultsim's serializers of a process did while it was set as <see cref="MessageSerializer.Meter"/>: messages
/// encoded and decoded, the bytes encoded, and the time both took (thread time summed over every thread that did them).
/// </summary>
public sealed class WireMeter
{
    private long _encoded, _decoded, _bytes, _encodeTicks, _decodeTicks;

    public long MessagesEncoded => Interlocked.Read(ref _encoded);
    public long MessagesDecoded => Interlocked.Read(ref _decoded);
    public long BytesEncoded => Interlocked.Read(ref _bytes);
    public TimeSpan EncodeTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _encodeTicks));
    public TimeSpan DecodeTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _decodeTicks));

    internal void Encoded(int bytes, long ticks)
    {
        Interlocked.Increment(ref _encoded);
        Interlocked.Add(ref _bytes, bytes);
        Interlocked.Add(ref _encodeTicks, ticks);
    }

    internal void Decoded(long ticks)
    {
        Interlocked.Increment(ref _decoded);
        Interlocked.Add(ref _decodeTicks, ticks);
    }
}
