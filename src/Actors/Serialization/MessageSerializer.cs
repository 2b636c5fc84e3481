using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Serialization;

namespace Faultsim.Actors.Serialization;

/// <summary>
/// The engine's wire format: System.Text.Json with the type as the manifest. Records travel as their
/// constructor's values only (computed properties stay home), the model's one-value structs
/// (addresses, page numbers, ids, PTEs) as plain numbers, closed record hierarchies (Resolution,
/// Backing, …) with a "$type" discriminator, and actor references as their paths.
/// </summary>
public sealed class MessageSerializer : SerializerWithStringManifest
{
    /// <summary>The HOCON that binds every simulation message to this serializer.</summary>
    public const string Config = """
        akka.actor {
          serializers.faultsim = "Faultsim.Actors.Serialization.MessageSerializer, Faultsim.Actors"
          serialization-bindings { "Faultsim.Actors.ISimulationMessage, Faultsim.Actors" = faultsim }
          serialization-identifiers { "Faultsim.Actors.Serialization.MessageSerializer, Faultsim.Actors" = 7301 }
        }
        """;

    private static readonly ConcurrentDictionary<string, Type> Types = new();
    private readonly JsonSerializerOptions _options;

    public MessageSerializer(ExtendedActorSystem system) : base(system)
    {
        _options = new JsonSerializerOptions
        {
            IncludeFields = true, // value tuples
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { WireShape.Apply } },
            Converters = { new OneValueStructConverter(), new ActorRefConverter(system) },
        };
    }

    public override int Identifier => 7301;

    public override string Manifest(object o) => $"{o.GetType().FullName}, {o.GetType().Assembly.GetName().Name}";

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _options);

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var type = Types.GetOrAdd(manifest, m => Type.GetType(m, throwOnError: true)!);
        return JsonSerializer.Deserialize(bytes, type, _options)
               ?? throw new System.Runtime.Serialization.SerializationException($"{manifest} deserialized to null");
    }

    /// <summary>Actor references travel as their full paths and are resolved by the receiving system.</summary>
    private sealed class ActorRefConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override bool CanConvert(Type typeToConvert) => typeof(IActorRef).IsAssignableFrom(typeToConvert);

        public override IActorRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetString() is { } path ? system.Provider.ResolveActorRef(path) : ActorRefs.Nobody;

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Akka.Serialization.Serialization.SerializedActorPath(value));
    }
}

/// <summary>How faultsim's types look on the wire: constructor values only, and closed hierarchies tagged by type.</summary>
internal static class WireShape
{
    public static void Apply(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || !IsOurs(info.Type))
            return;
        var constructor = info.Type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        var parameters = constructor?.GetParameters().Select(p => p.Name!).ToHashSet(StringComparer.OrdinalIgnoreCase) ?? [];
        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            var property = info.Properties[i];
            var name = (property.AttributeProvider as MemberInfo)?.Name ?? property.Name;
            if (property.Set is null && !parameters.Contains(name))
                info.Properties.RemoveAt(i); // a computed property: the receiver computes it again
        }
        if (info.Type.IsAbstract)
        {
            var polymorphism = new JsonPolymorphismOptions { UnknownDerivedTypeHandling = JsonUnknownDerivedTypeHandling.FailSerialization };
            foreach (var derived in OurTypes.Value.Where(t => !t.IsAbstract && !t.IsInterface && t != info.Type && info.Type.IsAssignableFrom(t)))
                polymorphism.DerivedTypes.Add(new JsonDerivedType(derived, derived.FullName!));
            info.PolymorphismOptions = polymorphism;
        }
    }

    /// <summary>Every type of faultsim's assemblies: the candidates for a closed hierarchy's cases or an interface's implementations.</summary>
    private static readonly Lazy<Type[]> OurTypes = new(() =>
    [
        .. new[] { typeof(WireShape).Assembly, typeof(Faultsim.Model.Faults.Resolution).Assembly }
            .Distinct()
            .SelectMany(a => a.GetTypes())
            .Where(t => !t.IsGenericTypeDefinition),
    ]);

    public static bool IsOurs(Type type) => type.Namespace?.StartsWith("Faultsim", StringComparison.Ordinal) == true;
}

/// <summary>The model's one-value structs (an address, a page number, an id, a PTE) as the bare number they wrap.</summary>
internal sealed class OneValueStructConverter : JsonConverterFactory
{
    private static readonly ConcurrentDictionary<Type, (ConstructorInfo Constructor, PropertyInfo Value)?> Shapes = new();

    public override bool CanConvert(Type typeToConvert) => Shape(typeToConvert) is not null;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        var (constructor, value) = Shape(typeToConvert)!.Value;
        return (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert), constructor, value)!;
    }

    private static (ConstructorInfo, PropertyInfo)? Shape(Type type) => Shapes.GetOrAdd(type, t =>
    {
        if (!t.IsValueType || t.IsEnum || !WireShape.IsOurs(t))
            return null;
        var constructor = t.GetConstructors().SingleOrDefault(c => c.GetParameters().Length == 1);
        var parameter = constructor?.GetParameters()[0];
        if (parameter is null || Type.GetTypeCode(parameter.ParameterType) is not (TypeCode.UInt64 or TypeCode.UInt32 or TypeCode.Int64 or TypeCode.Int32))
            return null;
        var property = t.GetProperty(parameter.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property is null ? null : (constructor!, property);
    });

    private sealed class Converter<T>(ConstructorInfo constructor, PropertyInfo value) : JsonConverter<T>
    {
        private readonly TypeCode _code = Type.GetTypeCode(value.PropertyType);

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Create(_code switch
            {
                TypeCode.UInt64 => reader.GetUInt64(),
                TypeCode.UInt32 => reader.GetUInt32(),
                TypeCode.Int64 => reader.GetInt64(),
                _ => (object)reader.GetInt32(),
            });

        public override void Write(Utf8JsonWriter writer, T value1, JsonSerializerOptions options)
        {
            switch (value.GetValue(value1))
            {
                case ulong u: writer.WriteNumberValue(u); break;
                case uint u: writer.WriteNumberValue(u); break;
                case long l: writer.WriteNumberValue(l); break;
                case int i: writer.WriteNumberValue(i); break;
            }
        }

        public override T ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Create(Convert.ChangeType(reader.GetString()!, value.PropertyType, System.Globalization.CultureInfo.InvariantCulture));

        public override void WriteAsPropertyName(Utf8JsonWriter writer, T value1, JsonSerializerOptions options) =>
            writer.WritePropertyName(Convert.ToString(value.GetValue(value1), System.Globalization.CultureInfo.InvariantCulture)!);

        private T Create(object raw) => (T)constructor.Invoke([raw]);
    }
}
