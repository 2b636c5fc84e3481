using System.Runtime.InteropServices;
using Faultsim.Host.Cli;

// The first Ctrl-C (SIGINT) asks the command to stop: it reports what it did, writes its outputs whole and exits 130.
// A second one is left to the system, and ends the process at once.
using var interrupt = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal =>
{
    if (interrupt.IsCancellationRequested)
        return;
    signal.Cancel = true;
    interrupt.Cancel();
});
return FaultsimCli.Run(args, Console.Out, Console.Error, Environment.GetEnvironmentVariable, interrupt.Token);
