namespace Faultsim.Model.Common;

/// <summary>
/// A map from 64-bit keys (below <see cref="ulong.MaxValue"/>) to 64-bit values, open addressing with linear probing: two
/// flat arrays and no object per entry, so that millions of entries cost 16 bytes a slot, where a
/// <see cref="Dictionary{TKey,TValue}"/> of the same costs about 36 bytes an entry and more per entry it boxes.
/// </summary>
public sealed class ULongMap
{
    private const int MinBits = 4;

    private ulong[] _keys;     // the key + 1; 0 marks an empty slot
    private ulong[] _values;
    private int _bits;

    public ULongMap()
    {
        _bits = MinBits;
        _keys = new ulong[1 << MinBits];
        _values = new ulong[1 << MinBits];
    }

    /// <summary>A copy of <paramref name="other"/>.</summary>
    public ULongMap(ULongMap other)
    {
        _bits = other._bits;
        _keys = (ulong[])other._keys.Clone();
        _values = (ulong[])other._values.Clone();
        Count = other.Count;
    }

    public int Count { get; private set; }

    public bool TryGetValue(ulong key, out ulong value)
    {
        var stored = Stored(key);
        var mask = _keys.Length - 1;
        for (var i = Home(stored); _keys[i] != 0; i = (i + 1) & mask)
        {
            if (_keys[i] == stored)
            {
                value = _values[i];
                return true;
            }
        }
        value = 0;
        return false;
    }

    public void Set(ulong key, ulong value)
    {
        if ((Count + 1) * 4L > _keys.Length * 3L) // at most three slots in four taken: probes stay short
            Resize(_bits + 1);
        var stored = Stored(key);
        var mask = _keys.Length - 1;
        var i = Home(stored);
        for (; _keys[i] != 0; i = (i + 1) & mask)
        {
            if (_keys[i] == stored)
            {
                _values[i] = value;
                return;
            }
        }
        _keys[i] = stored;
        _values[i] = value;
        Count++;
    }

    /// <summary>Removes the key; false when it was not there. Later entries of its probe run shift back into the gap.</summary>
    public bool Remove(ulong key)
    {
        var stored = Stored(key);
        var mask = _keys.Length - 1;
        var i = Home(stored);
        for (; _keys[i] != stored; i = (i + 1) & mask)
        {
            if (_keys[i] == 0)
                return false;
        }
        for (var j = (i + 1) & mask; _keys[j] != 0; j = (j + 1) & mask)
        {
            var home = Home(_keys[j]);
            if (((j - home) & mask) >= ((j - i) & mask)) // the entry at j may move back to the gap at i
            {
                _keys[i] = _keys[j];
                _values[i] = _values[j];
                i = j;
            }
        }
        _keys[i] = 0;
        _values[i] = 0;
        Count--;
        return true;
    }

    /// <summary>Every entry, in no particular order. The map must not change meanwhile.</summary>
    public IEnumerable<(ulong Key, ulong Value)> Entries()
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            if (_keys[i] != 0)
                yield return (_keys[i] - 1, _values[i]);
        }
    }

    private static ulong Stored(ulong key) =>
        key == ulong.MaxValue ? throw new ArgumentOutOfRangeException(nameof(key), "the largest key is reserved") : key + 1;

    private int Home(ulong stored) => (int)((stored * 0x9E37_79B9_7F4A_7C15UL) >> (64 - _bits)); // Fibonacci hashing

    private void Resize(int bits)
    {
        var (keys, values) = (_keys, _values);
        _bits = bits;
        _keys = new ulong[1 << bits];
        _values = new ulong[1 << bits];
        var mask = _keys.Length - 1;
        for (var k = 0; k < keys.Length; k++)
        {
            if (keys[k] == 0)
                continue;
            var i = Home(keys[k]);
            while (_keys[i] != 0)
                i = (i + 1) & mask;
            _keys[i] = keys[k];
            _values[i] = values[k];
        }
    }
}
