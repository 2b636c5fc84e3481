using System.Collections.Immutable;
using MessagePack;

namespace Faultsim.Actors.Serialization;

/// <summary>The codecs of the immutable collections messages hold: a MessagePack array (or map) of the elements' codecs.</summary>
internal static class Collections
{
    public static Codec? Of(Type type)
    {
        var definition = type.GetGenericTypeDefinition();
        var arguments = type.GetGenericArguments();
        if (definition == typeof(ImmutableArray<>))
            return Codecs.Create(typeof(ArrayCodec<>), arguments);
        if (definition == typeof(ImmutableList<>))
            return Codecs.Create(typeof(ListCodec<>), arguments);
        if (definition == typeof(ImmutableHashSet<>))
            return Codecs.Create(typeof(SetCodec<>), arguments);
        if (definition == typeof(ImmutableDictionary<,>))
            return Codecs.Create(typeof(DictionaryCodec<,>), arguments);
        return null;
    }

    /// <summary>nil for a default (uninitialised) array, so it comes back default rather than empty.</summary>
    private sealed class ArrayCodec<T> : Codec<ImmutableArray<T>>
    {
        private readonly Codec<T> _element = Codecs.For<T>();

        public override string Shape(HashSet<Type> seen) => $"[{Codecs.ShapeOf(typeof(T), seen)}]";

        public override void Write(ref MessagePackWriter writer, ImmutableArray<T> value, WireContext context)
        {
            if (value.IsDefault)
            {
                writer.WriteNil();
                return;
            }
            writer.WriteArrayHeader(value.Length);
            foreach (var item in value)
                _element.Write(ref writer, item, context);
        }

        public override ImmutableArray<T> Read(ref MessagePackReader reader, WireContext context)
        {
            if (reader.TryReadNil())
                return default;
            var count = reader.ReadArrayHeader();
            var items = ImmutableArray.CreateBuilder<T>(count);
            for (var i = 0; i < count; i++)
                items.Add(_element.Read(ref reader, context));
            return items.MoveToImmutable();
        }
    }

    private sealed class ListCodec<T>() : SequenceCodec<ImmutableList<T>, T>("list", ImmutableList.CreateRange);

    private sealed class SetCodec<T>() : SequenceCodec<ImmutableHashSet<T>, T>("set", ImmutableHashSet.CreateRange);

    /// <summary>An immutable collection of reference type as the array of its items (nil for null).</summary>
    private abstract class SequenceCodec<TCollection, T>(string kind, Func<IEnumerable<T>, TCollection> create) : Codec<TCollection?>
        where TCollection : class, IReadOnlyCollection<T>
    {
        private readonly Codec<T> _element = Codecs.For<T>();

        public override Type Type => typeof(TCollection);

        public override string Shape(HashSet<Type> seen) => $"{kind}[{Codecs.ShapeOf(typeof(T), seen)}]";

        public override void Write(ref MessagePackWriter writer, TCollection? value, WireContext context)
        {
            if (value is null)
            {
                writer.WriteNil();
                return;
            }
            writer.WriteArrayHeader(value.Count);
            foreach (var item in value)
                _element.Write(ref writer, item, context);
        }

        public override TCollection? Read(ref MessagePackReader reader, WireContext context)
        {
            if (reader.TryReadNil())
                return null;
            var items = new T[reader.ReadArrayHeader()];
            for (var i = 0; i < items.Length; i++)
                items[i] = _element.Read(ref reader, context);
            return create(items);
        }
    }

    private sealed class DictionaryCodec<TKey, TValue> : Codec<ImmutableDictionary<TKey, TValue>?> where TKey : notnull
    {
        private readonly Codec<TKey> _key = Codecs.For<TKey>();
        private readonly Codec<TValue> _value = Codecs.For<TValue>();

        public override Type Type => typeof(ImmutableDictionary<TKey, TValue>);

        public override string Shape(HashSet<Type> seen) => $"{{{Codecs.ShapeOf(typeof(TKey), seen)}:{Codecs.ShapeOf(typeof(TValue), seen)}}}";

        public override void Write(ref MessagePackWriter writer, ImmutableDictionary<TKey, TValue>? value, WireContext context)
        {
            if (value is null)
            {
                writer.WriteNil();
                return;
            }
            writer.WriteMapHeader(value.Count);
            foreach (var (key, item) in value)
            {
                _key.Write(ref writer, key, context);
                _value.Write(ref writer, item, context);
            }
        }

        public override ImmutableDictionary<TKey, TValue>? Read(ref MessagePackReader reader, WireContext context)
        {
            if (reader.TryReadNil())
                return null;
            var count = reader.ReadMapHeader();
            var items = ImmutableDictionary.CreateBuilder<TKey, TValue>();
            for (var i = 0; i < count; i++)
            {
                var key = _key.Read(ref reader, context);
                items.Add(key, _value.Read(ref reader, context));
            }
            return items.ToImmutable();
        }
    }
}
