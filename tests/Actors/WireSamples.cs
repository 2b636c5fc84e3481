using System.Collections;
using System.Collections.Immutable;
using System.Reflection;
using Akka.Actor;

namespace Faultsim.Tests.Actors;

/// <summary>
/// Values of any type a message holds, built from the type's shape alone, with every field set to something other than its
/// default, and each case of each closed hierarchy in turn (<see cref="CasesMade"/> says which were made), so a round trip
/// shows that no field and no case is lost. Independent of the serializer: it reads the types as a test would.
/// </summary>
internal sealed class WireSamples(IActorRef actor)
{
    private const int MaxDepth = 6;
    private readonly Random _random = new(20261203);
    private readonly Dictionary<Type, int> _turn = [];
    private int _variant;

    /// <summary>Every (hierarchy, case) made so far.</summary>
    public HashSet<(Type Hierarchy, Type Case)> CasesMade { get; } = [];

    /// <summary>The cases of every hierarchy met so far.</summary>
    public Dictionary<Type, Type[]> Hierarchies { get; } = [];

    /// <summary>A value of <paramref name="type"/>; <paramref name="variant"/> picks the cases of the hierarchies in it.</summary>
    public object? Make(Type type, int variant)
    {
        _variant = variant;
        return Value(type, 0);
    }

    private object? Value(Type type, int depth)
    {
        if (type == typeof(bool)) return _random.Next(2) == 0 || depth % 2 == 0;
        if (type == typeof(string)) return "s" + _random.Next(1000);
        if (type.IsEnum)
        {
            var values = Enum.GetValues(type);
            return values.GetValue((_variant + depth + _random.Next(values.Length)) % values.Length);
        }
        if (type.IsPrimitive) return Convert.ChangeType(_random.Next(1, 120), type, System.Globalization.CultureInfo.InvariantCulture);
        if (Nullable.GetUnderlyingType(type) is { } underlying)
            return (_variant + depth) % 3 == 2 ? null : Value(underlying, depth + 1);
        if (typeof(IActorRef).IsAssignableFrom(type))
            return _variant % 3 == 1 ? ActorRefs.Nobody : actor;
        if (type.IsGenericType && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(ImmutableArray<>) || definition == typeof(ImmutableList<>) || definition == typeof(ImmutableHashSet<>)))
            return Collection(type, definition, depth);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ImmutableDictionary<,>))
            return Dictionary(type, depth);
        if (type.IsAbstract || type.IsInterface)
            return Case(type, depth);
        return Record(type, depth);
    }

    private object Collection(Type type, Type definition, int depth)
    {
        var element = type.GetGenericArguments()[0];
        var count = depth >= MaxDepth ? 0 : 2;
        var items = Array.CreateInstance(element, count);
        for (var i = 0; i < count; i++)
            items.SetValue(Value(element, depth + 1), i);
        var factory = definition == typeof(ImmutableArray<>) ? typeof(ImmutableArray) : definition == typeof(ImmutableList<>) ? typeof(ImmutableList) : typeof(ImmutableHashSet);
        var create = factory.GetMethods().Single(m => m.Name == "Create" && m.GetParameters() is [{ ParameterType.IsArray: true }])
            .MakeGenericMethod(element);
        return create.Invoke(null, [items])!;
    }

    private object Dictionary(Type type, int depth)
    {
        var dictionary = type.GetField("Empty")!.GetValue(null)!;
        var add = type.GetMethod("SetItem")!;
        var (key, value) = (type.GetGenericArguments()[0], type.GetGenericArguments()[1]);
        for (var i = 0; depth < MaxDepth && i < 2; i++)
            dictionary = add.Invoke(dictionary, [Value(key, depth + 1), Value(value, depth + 1)])!;
        return dictionary;
    }

    private object? Case(Type hierarchy, int depth)
    {
        if (!Hierarchies.TryGetValue(hierarchy, out var cases))
            Hierarchies[hierarchy] = cases = [.. CasesOf(hierarchy)];
        if (cases.Length == 0)
            throw new InvalidOperationException($"{hierarchy} has no concrete case");
        var pick = cases[_turn.TryGetValue(hierarchy, out var turn) ? turn % cases.Length : 0];
        _turn[hierarchy] = turn + 1;  // each hierarchy's cases in turn, wherever it is met
        if (depth >= MaxDepth && pick.IsAssignableTo(typeof(Faultsim.Actors.ISimulationMessage)))
            pick = cases.FirstOrDefault(c => c.GetConstructors().Any(k => k.GetParameters().Length == 0)) ?? pick;
        CasesMade.Add((hierarchy, pick));
        return Value(pick, depth + 1);
    }

    public static IEnumerable<Type> CasesOf(Type hierarchy) =>
        new[] { typeof(Faultsim.Actors.ISimulationMessage).Assembly, typeof(Faultsim.Model.Faults.Resolution).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => !t.IsAbstract && !t.IsInterface && !t.IsGenericTypeDefinition && hierarchy.IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal);

    private object Record(Type type, int depth)
    {
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        if (constructor is null)
            return type.GetField("Instance", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) ?? Activator.CreateInstance(type)!;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var value = constructor.Invoke([.. constructor.GetParameters().Select(p => Value(p.ParameterType, depth + 1))]);
                foreach (var property in type.GetProperties().Where(p => p.SetMethod?.IsPublic == true
                             && !constructor.GetParameters().Any(c => string.Equals(c.Name, p.Name, StringComparison.OrdinalIgnoreCase))))
                    property.SetValue(value, Value(property.PropertyType, depth + 1));
                return value;
            }
            catch (TargetInvocationException) when (attempt < 50)
            {
                // a constructor that checks its arguments (an address range, say): draw again
            }
        }
    }

    /// <summary>Fails, naming the path, where <paramref name="actual"/> differs from <paramref name="expected"/> in any value they hold.</summary>
    public static void AssertSame(object? expected, object? actual, string path)
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: {expected ?? "null"} came back as {actual ?? "null"}");
            return;
        }
        Assert.True(expected.GetType() == actual.GetType(), $"{path}: a {expected.GetType()} came back as a {actual.GetType()}");
        var type = expected.GetType();
        if (expected is IActorRef sent)
        {
            Assert.True(sent.Path.Equals(((IActorRef)actual).Path), $"{path}: {sent.Path} came back as {((IActorRef)actual).Path}");
            return;
        }
        if (type.IsPrimitive || type.IsEnum || expected is string)
        {
            Assert.True(expected.Equals(actual), $"{path}: {expected} came back as {actual}");
            return;
        }
        if (expected is IDictionary expectedMap)
        {
            var actualMap = (IDictionary)actual;
            Assert.True(expectedMap.Count == actualMap.Count, $"{path}: {expectedMap.Count} entries came back as {actualMap.Count}");
            foreach (DictionaryEntry entry in expectedMap)
            {
                Assert.True(actualMap.Contains(entry.Key), $"{path}: the key {entry.Key} is missing");
                AssertSame(entry.Value, actualMap[entry.Key], $"{path}[{entry.Key}]");
            }
            return;
        }
        if (expected is IEnumerable sequence && type.IsGenericType && !IsTuple(type))
        {
            if (type.GetProperty("IsDefault") is { } isDefault && (bool)isDefault.GetValue(expected)!)
            {
                Assert.True((bool)isDefault.GetValue(actual)!, $"{path}: a default array came back initialised");
                return;
            }
            var (left, right) = (sequence.Cast<object?>().ToList(), ((IEnumerable)actual).Cast<object?>().ToList());
            Assert.True(left.Count == right.Count, $"{path}: {left.Count} items came back as {right.Count}");
            if (type.GetGenericTypeDefinition() == typeof(ImmutableHashSet<>))
                Assert.True(left.All(right.Contains), $"{path}: the set came back with other items");
            else
                for (var i = 0; i < left.Count; i++)
                    AssertSame(left[i], right[i], $"{path}[{i}]");
            return;
        }
        if (type.IsValueType && !IsTuple(type))
        {
            Assert.True(expected.Equals(actual), $"{path}: {expected} came back as {actual}"); // a record struct's equality is its values'
            return;
        }
        var compared = 0;
        foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            AssertSame(field.GetValue(expected), field.GetValue(actual), $"{path}.{field.Name}");
            compared++;
        }
        // a record's data: what its constructor takes and what can be set (computed properties follow from them)
        var constructor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0
                     && (p.SetMethod?.IsPublic == true || constructor?.GetParameters().Any(c => string.Equals(c.Name, p.Name, StringComparison.OrdinalIgnoreCase)) == true)))
        {
            AssertSame(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
            compared++;
        }
        if (compared == 0)
            Assert.True(expected.Equals(actual), $"{path}: {expected} came back as {actual}");
    }

    private static bool IsTuple(Type type) => type.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true;
}
