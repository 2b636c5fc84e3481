using Faultsim.Model.Common;

namespace Faultsim.Tests.Model;

public class ULongMapTests
{
    [Fact]
    public void A_map_holds_what_a_dictionary_holds_through_sets_and_removes()
    {
        var random = new Random(7);
        var map = new ULongMap();
        var expected = new Dictionary<ulong, ulong>();
        for (var i = 0; i < 200_000; i++)
        {
            var key = ((ulong)(uint)random.Next(0, 5000) << 9) | (uint)random.Next(0, 8); // clustered keys, as pages and words are
            if (random.Next(3) == 0)
            {
                Assert.Equal(expected.Remove(key), map.Remove(key));
            }
            else
            {
                var value = (ulong)random.NextInt64();
                expected[key] = value;
                map.Set(key, value);
            }
        }
        Assert.Equal(expected.Count, map.Count);
        foreach (var (key, value) in expected)
            Assert.True(map.TryGetValue(key, out var found) && found == value, $"key {key:x}");
        Assert.Equal(expected.OrderBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)), map.Entries().OrderBy(e => e.Key));
    }

    [Fact]
    public void A_copy_is_independent_of_its_original()
    {
        var map = new ULongMap();
        map.Set(0, 1);
        var copy = new ULongMap(map);
        copy.Set(0, 2);
        copy.Set(5, 3);
        Assert.True(map.TryGetValue(0, out var value));
        Assert.Equal(1UL, value);
        Assert.Equal(1, map.Count);
        Assert.Equal(2, copy.Count);
    }

    [Fact]
    public void Key_zero_is_a_key_like_any_other()
    {
        var map = new ULongMap();
        Assert.False(map.TryGetValue(0, out _));
        map.Set(0, 0);
        Assert.True(map.TryGetValue(0, out _));
        Assert.True(map.Remove(0));
        Assert.Equal(0, map.Count);
    }
}
