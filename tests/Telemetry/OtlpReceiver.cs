using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;

namespace Faultsim.Tests.Telemetry;

/// <summary>
/// A minimal OTLP/HTTP collector on loopback: it accepts every POST, answers 200 with an empty (valid) export response,
/// and keeps each request's path and protobuf body for the test to decode.
/// </summary>
internal sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;

    public OtlpReceiver()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0); // a free port
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = Task.Run(Serve);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public ConcurrentQueue<(string Path, string ContentType, byte[] Body)> Requests { get; } = new();

    /// <summary>The bodies posted to <paramref name="path"/>, e.g. /v1/traces.</summary>
    public List<byte[]> Bodies(string path) => [.. Requests.Where(r => r.Path == path).Select(r => r.Body)];

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Requests.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType ?? "", body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(10));
    }
}

/// <summary>
/// Reads protobuf messages field by field, without generated classes: enough of OTLP's schema to find resources,
/// spans and metrics by field number (opentelemetry/proto/trace/v1/trace.proto, metrics/v1/metrics.proto).
/// </summary>
internal static class Protobuf
{
    /// <summary>The values of field <paramref name="number"/> of a message: bytes for length-delimited fields, numbers boxed.</summary>
    public static List<object> Field(byte[] message, int number)
    {
        var values = new List<object>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var matches = WireFormat.GetTagFieldNumber(tag) == number;
            switch (WireFormat.GetTagWireType(tag))
            {
                case WireFormat.WireType.LengthDelimited:
                    var bytes = input.ReadBytes().ToByteArray();
                    if (matches) values.Add(bytes);
                    break;
                case WireFormat.WireType.Varint:
                    var varint = input.ReadUInt64();
                    if (matches) values.Add(varint);
                    break;
                case WireFormat.WireType.Fixed64:
                    var fixed64 = input.ReadFixed64();
                    if (matches) values.Add(fixed64);
                    break;
                case WireFormat.WireType.Fixed32:
                    var fixed32 = input.ReadFixed32();
                    if (matches) values.Add(fixed32);
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }
        return values;
    }

    public static IEnumerable<byte[]> Messages(byte[] message, int number) => Field(message, number).Cast<byte[]>();

    public static string Text(byte[] message, int number) => System.Text.Encoding.UTF8.GetString(Messages(message, number).Single());

    /// <summary>A resource's (or span's) string attributes: KeyValue{1: key, 2: AnyValue{1: string_value}}.</summary>
    public static Dictionary<string, string> Attributes(byte[] owner, int field) =>
        Messages(owner, field).ToDictionary(kv => Text(kv, 1), kv => Messages(kv, 2).Select(v => Field(v, 1).FirstOrDefault() as byte[]).Select(b => b is null ? "" : System.Text.Encoding.UTF8.GetString(b)).Single());
}
