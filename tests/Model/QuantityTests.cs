using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>Numbers in scripts and configs: decimal, hex, binary suffixes, underscores.</summary>
public sealed class QuantityTests
{
    [Theory]
    [InlineData("4096", 4096UL)]
    [InlineData("0x1000", 4096UL)]
    [InlineData("0X1f", 31UL)]
    [InlineData("64K", 65536UL)]
    [InlineData("64k", 65536UL)]
    [InlineData("8M", 8UL << 20)]
    [InlineData("2G", 2UL << 30)]
    [InlineData("3T", 3UL << 40)]
    [InlineData("4KiB", 4096UL)]
    [InlineData("4KB", 4096UL)]
    [InlineData("1_000", 1000UL)]
    [InlineData("0x7fff_0000", 0x7fff_0000UL)]
    [InlineData(" 12 ", 12UL)]
    [InlineData("0", 0UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    [InlineData("16777215T", 16777215UL << 40)]
    public void A_number_in_any_accepted_form_parses_to_its_value(string text, ulong expected)
    {
        Assert.True(Quantity.TryParse(text, out var value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("K")]
    [InlineData("12Q")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.5K")]
    [InlineData("0x")]
    [InlineData("0xg")]
    [InlineData("4 K")]
    [InlineData("1e3")]
    public void Junk_is_rejected(string text) => Assert.False(Quantity.TryParse(text, out _));

    [Theory]
    [InlineData("18446744073709551616")]     // 2^64
    [InlineData("0x1_0000_0000_0000_0000")]
    [InlineData("16777216T")]                // 2^24 TiB = 2^64
    [InlineData("17179869184G")]
    [InlineData("99999999999999999999M")]
    public void A_value_that_overflows_64_bits_is_rejected(string text) => Assert.False(Quantity.TryParse(text, out _));
}
