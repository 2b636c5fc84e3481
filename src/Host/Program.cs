using Faultsim.Host.Cli;

return FaultsimCli.Run(args, Console.Out, Console.Error);
