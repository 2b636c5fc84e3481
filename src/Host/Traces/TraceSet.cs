using Faultsim.Host.Configuration;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Traces;

/// <summary>
/// The traces a command replays (<c>--trace FILE</c>, repeatable), each checked readable before the run: their workload,
/// the run with its progress bar, and the rule that a trace that cannot be read to its end makes the run bad input.
/// Disposing it stops every pass still reading.
/// </summary>
public sealed class TraceSet : IDisposable
{
    public const string Option = "--trace";
    public const string ModeOption = "--trace-mode";
    public static readonly string[] Modes = ["threads", "processes"];

    private TraceSet(IReadOnlyList<TraceFile> files) => Files = files;

    public IReadOnlyList<TraceFile> Files { get; }

    /// <summary>What the run replays, for its report.</summary>
    public string Source => (Files.Count == 1 ? "trace " : "traces ") + string.Join(", ", Files.Select(f => f.Path));

    /// <summary>The traces at <paramref name="paths"/>; null when none are given.</summary>
    public static TraceSet? Open(IReadOnlyList<string>? paths)
    {
        if (paths is not { Count: > 0 })
            return null;
        return new TraceSet([.. paths.Select(p => TraceFile.Check(p, Option))]);
    }

    /// <summary>The mode --trace-mode names (threads when not given).</summary>
    public static TraceMode ModeOf(string? text) => text switch
    {
        null or "threads" => TraceMode.Threads,
        "processes" => TraceMode.Processes,
        _ => throw new ConfigException(ModeOption, null, $"no trace mode '{text}'; use {string.Join(" or ", Modes)}"),
    };

    /// <summary>The workload that replays the traces on <paramref name="machine"/>, trace i on CPU i.</summary>
    public Workload Workload(TraceMode mode, MachineSpec machine) => TraceWorkload.ToWorkload(Files, mode, machine);

    /// <summary>
    /// Runs <paramref name="work"/>, with the progress bar when <paramref name="error"/> is a terminal (null: never, as for
    /// a benchmark). A trace that could not be read to its end is the run's error, whatever the engine made of it: one
    /// line naming the file and the line.
    /// </summary>
    public T Run<T>(TextWriter? error, Func<T> work)
    {
        T result;
        try
        {
            result = error is null ? work() : TraceProgress.Run(Files, error, work);
        }
        catch (Exception) when (Failure is not null)
        {
            throw Failure!;
        }
        return Failure is { } failure ? throw failure : result;
    }

    private ConfigException? Failure => Files.Select(f => f.Failure).FirstOrDefault(f => f is not null);

    public void Dispose()
    {
        foreach (var file in Files)
            file.Dispose();
    }
}
