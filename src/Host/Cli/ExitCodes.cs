namespace Faultsim.Host.Cli;

/// <summary>faultsim's exit codes; scripts rely on them.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;
    /// <summary>A run found an invariant violation.</summary>
    public const int Violation = 1;
    /// <summary>Bad input: command line, config or workload. One line on stderr says where and how to fix it.</summary>
    public const int BadInput = 2;
    /// <summary>A fault of faultsim itself.</summary>
    public const int InternalError = 70;
}
