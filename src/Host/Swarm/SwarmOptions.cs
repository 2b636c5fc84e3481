using Faultsim.Host.Configuration;

namespace Faultsim.Host.Swarm;

/// <summary>The bounds a swarm draw is drawn within (faultsim.swarm.*, documented in config/faultsim.conf).</summary>
public sealed record SwarmOptions
{
    public int MaxCpus { get; init; } = 8;
    public int MaxProcesses { get; init; } = 4;
    public int MaxForks { get; init; } = 4;
    public int MaxRegions { get; init; } = 4;
    public int MaxPages { get; init; } = 8;
    public int MaxFiles { get; init; } = 3;
    public int MaxLines { get; init; } = 24;
    public int MaxPhases { get; init; } = 3;
    public double Syscalls { get; init; } = 0.35;
    public double FeatureChance { get; init; } = 0.7;
    public double LockOps { get; init; }
    public double RaceFree { get; init; } = 0.3;
    public double FrameLimit { get; init; } = 0.4;
    public int MaxFrames { get; init; } = 12;
    public double MaxJitter { get; init; } = 0.5;
    public double Crashes { get; init; } = 0.1;
    public double MaxCrashRate { get; init; } = 0.3;
    public double DiskErrors { get; init; } = 0.1;
    public double MaxReadErrorRate { get; init; } = 0.05;
    public double ForcedWrites { get; init; } = 0.2;
    public double ForcedWriteShare { get; init; } = 0.25;
    public double CowThreads { get; init; } = 0.1;
    public double LateFaults { get; init; } = 0.1;

    public const string Section = "swarm";

    /// <summary>The options of the loaded config (the embedded default, under any --set).</summary>
    public static SwarmOptions From(LoadedConfig loaded)
    {
        var s = new ConfigReader(loaded, loaded.Merged, "").Section(ConfigSchema.Root).Section(Section);
        return new SwarmOptions
        {
            MaxCpus = s.Int("max-cpus", 1, 64),
            MaxProcesses = s.Int("max-processes", 1, 16),
            MaxForks = s.Int("max-forks", 0, 64),
            MaxRegions = s.Int("max-regions", 1, 16),
            MaxPages = s.Int("max-pages", 1, 256),
            MaxFiles = s.Int("max-files", 0, 8),
            MaxLines = s.Int("max-lines", 1, 10_000),
            MaxPhases = s.Int("max-phases", 1, 16),
            Syscalls = s.Fraction("syscalls"),
            FeatureChance = s.Fraction("feature-chance"),
            LockOps = s.Fraction("lock-ops"),
            RaceFree = s.Fraction("race-free"),
            FrameLimit = s.Fraction("frame-limit"),
            MaxFrames = s.Int("max-frames", 1, 1 << 20),
            MaxJitter = s.Fraction("max-jitter"),
            Crashes = s.Fraction("crashes"),
            MaxCrashRate = s.Fraction("max-crash-rate"),
            DiskErrors = s.Fraction("disk-errors"),
            MaxReadErrorRate = s.Fraction("max-read-error-rate"),
            ForcedWrites = s.Fraction("forced-writes"),
            ForcedWriteShare = s.Fraction("forced-write-share"),
            CowThreads = s.Fraction("cow-threads"),
            LateFaults = s.Fraction("late-faults"),
        };
    }
}
