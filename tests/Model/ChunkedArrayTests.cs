using Faultsim.Model.Common;

namespace Faultsim.Tests.Model;

public class ChunkedArrayTests
{
    [Fact]
    public void Items_keep_their_elements_while_the_array_grows_through_many_chunks()
    {
        var array = new ChunkedArray<ulong>(stride: 3, initialItems: 4);
        const uint items = 200_000;
        for (uint i = 0; i < items; i++)
        {
            array.EnsureRoomFor(i);
            var item = array.Items(i);
            item[0] = i;
            item[2] = ~(ulong)i;
        }
        for (uint i = 0; i < items; i++)
            Assert.Equal([i, 0UL, ~(ulong)i], array.Items(i).ToArray());
        Assert.Equal(7 * 32_768, array.Capacity); // whole chunks of 32K items (128K elements over a stride of 3, rounded down to a power of two)
    }

    [Fact]
    public void An_element_of_a_stride_of_one_is_read_and_written_in_place()
    {
        var array = new ChunkedArray<int>();
        array.EnsureRoomFor(1_000_000);
        array[1_000_000]++;
        array[1_000_000]++;
        Assert.Equal(2, array[1_000_000]);
        Assert.Equal(0, array[999_999]);
    }
}
