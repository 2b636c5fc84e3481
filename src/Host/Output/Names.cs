using Faultsim.Model.Faults;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Output;

/// <summary>The names faultsim prints and writes for its enums: short, lower case, stable.</summary>
public static class Names
{
    public static string Of(ResolutionKind kind) => kind.Name();

    public static string Of(ProcessFate fate) => fate switch
    {
        ProcessFate.Running => "running",
        ProcessFate.Exited => "exited",
        ProcessFate.KilledBySigSegv => "SIGSEGV",
        ProcessFate.KilledBySigBus => "SIGBUS",
        ProcessFate.KilledByOom => "OOM-killed",
        _ => fate.ToString(),
    };
}
