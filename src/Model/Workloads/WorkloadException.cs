namespace Faultsim.Model.Workloads;

/// <summary>A workload that cannot run as written. <see cref="Line"/> is the config-file line at fault, when known.</summary>
public sealed class WorkloadException(int? line, string message) : Exception(message)
{
    public int? Line { get; } = line;
}
