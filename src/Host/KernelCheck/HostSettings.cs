using System.Collections.Immutable;
using System.Globalization;

namespace Faultsim.Host.KernelCheck;

/// <summary>The host's settings the model runs with, each with where it came from.</summary>
internal sealed record HostSettings(bool ZeroPage, bool Smap, bool Swap, ulong ReadaheadBytes, ulong FaultAroundBytes, string Thp,
    ImmutableArray<string> Assumed)
{
    /// <summary>The config layer under every pattern: faultsim.machine as this host has it.</summary>
    public string Config =>
        $"faultsim.machine {{\n  zero-page = {(ZeroPage ? "on" : "off")}\n  smap = {(Smap ? "on" : "off")}\n" +
        $"  fault-around = {FaultAroundBytes}\n  readahead {{ window = {ReadaheadBytes}, max = {ReadaheadBytes} }}\n}}\n";

    public static HostSettings From(ImmutableDictionary<string, string> host)
    {
        var assumed = ImmutableArray.CreateBuilder<string>();
        long Number(string key, long fallback, string what)
        {
            if (host.TryGetValue(key, out var text) && long.TryParse(text, CultureInfo.InvariantCulture, out var n) && n > 0)
                return n;
            assumed.Add(what);
            return fallback;
        }
        var readahead = Number("readahead-kb", 128, "readahead 128K (the device's read_ahead_kb was not found)") * 1024;
        var around = Number("fault-around-bytes", 65536, "fault-around 64K (Linux's default; debugfs's fault_around_bytes is not readable)");
        return new HostSettings(host.GetValueOrDefault("zero-page") != "off", host.GetValueOrDefault("smap") == "on", host.GetValueOrDefault("swap") == "on",
            (ulong)readahead, (ulong)around, host.GetValueOrDefault("thp") ?? "unknown", assumed.ToImmutable());
    }
}
