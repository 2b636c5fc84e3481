using System.Diagnostics;
using Faultsim.Host.Cli;

namespace Faultsim.Tests.Host;

/// <summary>The command line run in-process, as a user's shell would run it: its exit code, standard output and standard error.</summary>
internal static class CliHarness
{
    /// <summary>The dotnet host running the tests, to start faultsim out of process.</summary>
    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    /// <summary>The faultsim binary beside the tests (the host project is built with them).</summary>
    public static string FaultsimDll => Path.Combine(AppContext.BaseDirectory, "faultsim.dll");

    public static (int Exit, string Out, string Err) Cli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = FaultsimCli.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>`faultsim ARGS` started in a process of its own, its standard output and error redirected for the caller to read.</summary>
    public static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(FaultsimDll);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    /// <summary>
    /// The command line run in a process of its own — for what a process-wide figure measures (the managed heap), which the
    /// other tests running beside it in this process would blur. Killed after <paramref name="timeout"/>.
    /// </summary>
    public static (int Exit, string Out, string Err) OutOfProcess(TimeSpan timeout, params string[] args)
    {
        using var process = Start(args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"faultsim {string.Join(' ', args)} did not end within {timeout}");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}
