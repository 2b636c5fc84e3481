using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace Faultsim.Host.Traces;

/// <summary>
/// The progress of a run over traces — bytes read, accesses per second, the time left — as a bar on standard error, shown
/// only on a terminal: when either output is redirected (or is not the console) the run goes on with no bar at all.
/// </summary>
internal static class TraceProgress
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(250);

    /// <summary>Runs <paramref name="work"/>, with the bar while it runs if <paramref name="error"/> is the console's terminal.</summary>
    public static T Run<T>(IReadOnlyList<TraceFile> traces, TextWriter error, Func<T> work)
    {
        if (!ReferenceEquals(error, Console.Error) || Console.IsErrorRedirected || Console.IsOutputRedirected)
            return work();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var total = traces.Sum(t => t.Length);
        return console.Progress().AutoClear(true).HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var bar = context.AddTask(Describe(traces, 0, 0, total), maxValue: Math.Max(1, total));
                var running = Task.Factory.StartNew(work, TaskCreationOptions.LongRunning);
                var clock = Stopwatch.StartNew();
                while (!running.Wait(Refresh))
                {
                    var bytes = traces.Sum(t => t.Progress.Bytes);
                    var accesses = traces.Sum(t => t.Progress.Accesses);
                    bar.Value = Math.Min(bytes, total);
                    bar.Description = Describe(traces, bytes, accesses / clock.Elapsed.TotalSeconds, total);
                }
                bar.Value = bar.MaxValue;
                return running.GetAwaiter().GetResult();
            });
    }

    private static string Describe(IReadOnlyList<TraceFile> traces, long bytes, double accessesPerSecond, long total)
    {
        var name = traces.Count == 1 ? Path.GetFileName(traces[0].Path) : $"{traces.Count} traces";
        var pass = traces.Max(t => t.Passes) is var passes and > 1 ? $", pass {passes}" : "";
        return Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{name}{pass}: {bytes / 1e6:F1} of {total / 1e6:F1} MB, {accessesPerSecond / 1e6:F2} M accesses/s"));
    }
}
