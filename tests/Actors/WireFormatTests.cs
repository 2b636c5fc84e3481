using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Faultsim.Actors;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Serialization;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Workloads;
using MessagePack;

namespace Faultsim.Tests.Actors;

/// <summary>
/// The wire: every message that can cross nodes is in the fixed table, goes through faultsim's MessagePack serializer
/// (bound in the actor system's config) and comes back with every value; anything else that arrives is refused.
/// </summary>
public sealed class WireFormatTests : Akka.TestKit.Xunit2.TestKit
{
    private const int Variants = 24;

    private static readonly Config SystemConfig = ConfigurationFactory.ParseString(MessageSerializer.Config);

    public WireFormatTests() : base(SystemConfig) { }

    private Akka.Serialization.Serialization Serialization => Sys.Serialization;

    /// <summary>Every concrete message type of faultsim's assemblies, found by reflection.</summary>
    private static IEnumerable<Type> MessageTypes() =>
        new[] { typeof(ISimulationMessage).Assembly, typeof(Faultsim.Model.Faults.Resolution).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => !t.IsAbstract && !t.IsInterface && typeof(ISimulationMessage).IsAssignableFrom(t));

    [Fact]
    public void Every_message_type_has_one_manifest_in_the_table_and_the_table_holds_messages_only()
    {
        var missing = MessageTypes().Where(t => !MessageTable.Types.Contains(t)).Select(t => t.FullName).ToList();
        Assert.True(missing.Count == 0, "not in MessageTable: " + string.Join(", ", missing));
        Assert.All(MessageTable.Types, t => Assert.True(typeof(ISimulationMessage).IsAssignableFrom(t), $"{t} is not a message"));
        Assert.Equal(MessageTable.All.Count, MessageTable.All.Select(e => e.Manifest).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(MessageTable.All.Count, MessageTable.Types.Distinct().Count());
    }

    [Fact]
    public void Every_message_type_round_trips_through_the_serializer_the_config_binds_with_every_value_and_every_case()
    {
        var samples = new WireSamples(TestActor);
        foreach (var type in MessageTable.Types)
            for (var variant = 0; variant < Variants; variant++)
            {
                var message = samples.Make(type, variant)!;
                var serializer = Serialization.FindSerializerFor(message);
                Assert.IsType<MessageSerializer>(serializer);
                var bytes = serializer.ToBinary(message);
                var back = Serialization.Deserialize(bytes, serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, message));
                WireSamples.AssertSame(message, back, $"{type.Name} (variant {variant})");
            }
        var unmade = samples.Hierarchies.SelectMany(h => h.Value.Select(c => (h.Key, c))).Where(c => !samples.CasesMade.Contains(c)).ToList();
        Assert.True(unmade.Count == 0, "cases never sent: " + string.Join(", ", unmade.Select(c => $"{c.Key.Name}.{c.c.Name}")));
    }

    [Fact]
    public void A_manifest_not_in_the_table_is_refused_and_no_type_is_loaded_by_its_name()
    {
        var serializer = (MessageSerializer)Serialization.FindSerializerFor(Connected.Instance);
        var bytes = serializer.ToBinary(Connected.Instance);
        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "System.IO.FileInfo, System.IO.FileSystem"));
        Assert.Equal($"faultsim wire: unknown message manifest 'System.IO.FileInfo, System.IO.FileSystem': not one of this build's {MessageTable.All.Count} message types (is the peer another faultsim version?)",
            error.Message);
        Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "Faultsim.Actors.Connected, Faultsim.Actors"));
    }

    [Fact]
    public void A_message_of_another_format_version_or_schema_is_refused_with_the_reason()
    {
        var serializer = (MessageSerializer)Serialization.FindSerializerFor(Connected.Instance);
        var bytes = serializer.ToBinary(new CpuAttached(new CpuId(3)));
        Assert.Equal(0x94, bytes[0]);                 // an array of four: version, schema, traceparent, message
        Assert.Equal(WireFormat.Version, bytes[1]);   // a positive fixint
        var later = (byte[])bytes.Clone();
        later[1] = WireFormat.Version + 1;
        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary(later, "CpuAttached"));
        Assert.Equal($"faultsim wire: refused a 'CpuAttached' message that is in wire format {WireFormat.Version + 1}, and this node reads format {WireFormat.Version} only", error.Message);

        var otherBuild = (byte[])bytes.Clone();
        Assert.Equal(0xce, otherBuild[2]);            // the schema: a uint32
        otherBuild[6] ^= 0xff;
        error = Assert.Throws<SerializationException>(() => serializer.FromBinary(otherBuild, "CpuAttached"));
        Assert.Contains("every node of a cluster must run the same faultsim build", error.Message);

        error = Assert.Throws<SerializationException>(() => serializer.FromBinary("{\"Cpu\":3}"u8.ToArray(), "CpuAttached"));
        Assert.Equal("faultsim wire: refused a 'CpuAttached' message that is not in a faultsim envelope", error.Message);
        error = Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes[..^1], "CpuAttached"));
        Assert.StartsWith("faultsim wire: refused a 'CpuAttached' message that is", error.Message);
    }

    [Fact]
    public void A_faults_trace_context_travels_as_the_envelopes_w3c_traceparent()
    {
        var trace = new TraceContext(0x0af7651916cd43dd, 0x8448eb211c80319c, 0xb7ad6b7169203331);
        var walk = new Walk(new FaultId(7), new CpuId(1), new VirtualAddress(0x4000_1234), AccessKind.Write, AccessMode.User,
            new VirtualAddress(0x7fff_0000), ProtectionFault: false, trace, StartedAt: 99);
        var serializer = (MessageSerializer)Serialization.FindSerializerFor(walk);
        var bytes = serializer.ToBinary(walk);

        var reader = new MessagePackReader(bytes);
        Assert.Equal(4, reader.ReadArrayHeader());
        Assert.Equal(WireFormat.Version, reader.ReadInt32());
        Assert.Equal(WireFormat.Schema, reader.ReadUInt32());
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", reader.ReadString());
        Assert.Equal(8, reader.ReadArrayHeader());    // Walk's nine values less the trace

        var back = (Walk)serializer.FromBinary(bytes, "Walk");
        Assert.Equal(trace, back.Trace);
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", trace.ToActivityContext().TraceId.ToHexString());
        Assert.Equal(walk, back);

        var unsampled = (Walk)serializer.FromBinary(serializer.ToBinary(walk with { Trace = TraceContext.None }), "Walk");
        Assert.Equal(TraceContext.None, unsampled.Trace);
    }

    [Fact]
    public void A_message_is_compact_binary_not_text()
    {
        var resolved = new FaultResolved(new FaultId(12), new PageKey(new Asid(1), new PageNumber(0x40001)), Faultsim.Model.Faults.ResolutionKind.DemandZero,
            Major: false, Counted: true, DiskRead: false, FaultOutcome.Retry, Translation: null);
        var bytes = Serialization.FindSerializerFor(resolved).ToBinary(resolved);
        // envelope 1 + version 1 + schema 5 + no trace 1; message: array 1, id 1, page [array 1, asid 1, page 5], kind 1, 3 bools, outcome 1, nil, code 1, bool
        Assert.Equal(25, bytes.Length);
    }

    [Fact]
    public void A_traceparent_that_is_not_w3c_version_00_is_not_read()
    {
        Assert.True(TraceContext.TryParse(null, out var none));
        Assert.Equal(TraceContext.None, none);
        Assert.False(TraceContext.TryParse("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", out _));
        Assert.False(TraceContext.TryParse("00-00000000000000000000000000000000-b7ad6b7169203331-01", out _));
        Assert.False(TraceContext.TryParse("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", out _));
        Assert.False(TraceContext.TryParse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01", out _));
    }
}
