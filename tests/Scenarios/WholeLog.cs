using Faultsim.Actors.Monitoring;

namespace Faultsim.Tests.Scenarios;

/// <summary>A sink that keeps every line of a run's event log: for tests that compare whole logs (the log itself keeps only its tail).</summary>
internal sealed class WholeLog : IEventSink
{
    public List<string> Lines { get; } = [];

    /// <summary>The log as its event file holds it: every line followed by a newline.</summary>
    public string Text => string.Concat(Lines.Select(l => l + "\n"));

    public void Write(LoggedEvent e, ReadOnlySpan<char> line) => Lines.Add(line.ToString());
}
