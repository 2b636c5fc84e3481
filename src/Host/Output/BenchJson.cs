using System.Text;
using System.Text.Json;

namespace Faultsim.Host.Output;

/// <summary>The envelope every bench's JSON shares: whether it was interrupted, the cores, and one object per result.</summary>
internal static class BenchJson
{
    public static string Of<T>(bool partial, string array, IEnumerable<T> results, Action<Utf8JsonWriter, T> write)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteBoolean("partial", partial);
            json.WriteNumber("cores", Environment.ProcessorCount);
            json.WriteStartArray(array);
            foreach (var r in results)
            {
                json.WriteStartObject();
                write(json, r);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
