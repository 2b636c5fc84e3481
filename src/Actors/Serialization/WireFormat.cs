using System.Buffers;
using System.Linq.Expressions;
using System.Runtime.Serialization;
using System.Text;
using Faultsim.Actors.Telemetry;
using MessagePack;

namespace Faultsim.Actors.Serialization;

/// <summary>
/// The envelope every message crosses nodes in, as one MessagePack array:
/// <c>[format version, schema, traceparent | nil, message]</c>. The format version says how the envelope is laid out;
/// the schema is a fingerprint of every message's shape in this build (its fields and their types, the cases of each
/// hierarchy), so a node refuses, with an error that says so, a message from a build whose messages differ instead of
/// misreading it. A message's trace context (its <c>Trace</c> field, when it has one) travels as the W3C
/// <c>traceparent</c> of the envelope, so one fault's spans on two nodes share a trace and link parent to child; the
/// message itself is the array of its other values (see <see cref="Codecs"/>).
/// </summary>
public static class WireFormat
{
    /// <summary>The layout of the envelope. Raise it when the envelope changes; a node reads its own version only.</summary>
    public const int Version = 1;

    private static readonly Lazy<uint> SchemaValue = new(() => Fnv1a(Describe()));
    private static readonly Lazy<Dictionary<Type, Entry>> Entries = new(() =>
        MessageTable.All.ToDictionary(e => e.Type, e => (Entry)Activator.CreateInstance(typeof(Entry<>).MakeGenericType(e.Type), e.Manifest)!));

    /// <summary>The fingerprint of this build's message shapes.</summary>
    public static uint Schema => SchemaValue.Value;

    /// <summary>Every message's wire shape, one line each, in table order: what <see cref="Schema"/> is the fingerprint of.</summary>
    public static string Describe()
    {
        var text = new StringBuilder($"faultsim wire format {Version}\n");
        foreach (var (manifest, type) in MessageTable.All)
            text.Append(manifest).Append(" = ").Append(Codecs.ShapeOf(type, [])).Append('\n');
        return text.ToString();
    }

    internal static void Encode(IBufferWriter<byte> output, object message, WireContext context)
    {
        if (!Entries.Value.TryGetValue(message.GetType(), out var entry))
            throw new SerializationException($"faultsim wire: {message.GetType()} is not in the message table (src/Actors/Serialization/MessageTable.cs)");
        var writer = new MessagePackWriter(output);
        writer.WriteArrayHeader(4);
        writer.Write(Version);
        writer.Write(Schema);
        entry.Write(ref writer, message, context);
        writer.Flush();
    }

    internal static object Decode(ReadOnlyMemory<byte> bytes, string manifest, WireContext context)
    {
        var type = MessageTable.TypeOf(manifest);
        try
        {
            var reader = new MessagePackReader(bytes);
            if (reader.NextMessagePackType != MessagePackType.Array)
                throw Refused(manifest, "is not in a faultsim envelope");
            var fields = reader.ReadArrayHeader();
            var version = fields > 0 && reader.NextMessagePackType == MessagePackType.Integer ? reader.ReadInt32() : -1;
            if (version != Version)
                throw Refused(manifest, $"is in wire format {version}, and this node reads format {Version} only");
            var schema = fields > 1 ? reader.ReadUInt32() : 0;
            if (schema != Schema)
                throw Refused(manifest, $"has message schema {schema:x8}, and this node's is {Schema:x8}: every node of a cluster must run the same faultsim build");
            if (fields != 4)
                throw Refused(manifest, $"has an envelope of {fields} fields, not 4");
            return Entries.Value[type].Read(ref reader, context);
        }
        catch (MessagePackSerializationException e)
        {
            throw Refused(manifest, $"is malformed: {e.Message}");
        }
        catch (EndOfStreamException)
        {
            throw Refused(manifest, "is cut short");
        }
    }

    private static SerializationException Refused(string manifest, string why) => new($"faultsim wire: refused a '{manifest}' message that {why}");

    private static uint Fnv1a(string text)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(text))
            hash = (hash ^ b) * 16777619u;
        return hash;
    }

    /// <summary>How one message type goes into the envelope: its trace as the traceparent, then the rest of it.</summary>
    private abstract class Entry
    {
        public abstract void Write(ref MessagePackWriter writer, object message, WireContext context);

        public abstract object Read(ref MessagePackReader reader, WireContext context);
    }

    private sealed class Entry<T> : Entry where T : notnull
    {
        private readonly string _manifest;
        private readonly RecordCodec<T> _codec;
        private readonly int _trace;
        private readonly Func<T, TraceContext>? _traceOf;

        public Entry(string manifest)
        {
            _manifest = manifest;
            _codec = Codecs.For<T>() as RecordCodec<T>
                     ?? throw new NotSupportedException($"faultsim wire: the message {typeof(T)} is not a record");
            _trace = _codec.TraceMember;
            if (_trace >= 0)
            {
                var message = Expression.Parameter(typeof(T), "message");
                _traceOf = Expression.Lambda<Func<T, TraceContext>>(Expression.Property(message, "Trace"), message).Compile();
            }
        }

        public override void Write(ref MessagePackWriter writer, object message, WireContext context)
        {
            var typed = (T)message;
            writer.Write(_traceOf?.Invoke(typed).ToTraceParent());
            _codec.Write(ref writer, typed, context, _trace);
        }

        public override object Read(ref MessagePackReader reader, WireContext context)
        {
            var traceParent = reader.ReadString();
            if (!TraceContext.TryParse(traceParent, out var trace))
                throw Refused(_manifest, $"carries the traceparent '{traceParent}', which is not a W3C version-00 one");
            if (_trace < 0 && trace.IsSampled)
                throw Refused(_manifest, "carries a trace context, and this build's message has none");
            return _codec.Read(ref reader, context, _trace, trace);
        }
    }
}
