using System.Buffers;
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

    public override byte[] ToBinary(object obj)
    {
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        WireFormat.Encode(buffer, obj, _context);
        return buffer.WrittenSpan.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest) => WireFormat.Decode(bytes, manifest, _context);
}
