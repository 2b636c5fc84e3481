using Faultsim.Actors.Telemetry;
using Faultsim.Host.Output;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Faultsim.Host.Telemetry;

/// <summary>
/// The OpenTelemetry SDK around a run, wired the conventional way: a generic host with AddOpenTelemetry, listening to
/// faultsim's ActivitySource and Meter, exporting to the console, OTLP and the trace file as configured. Disposing it
/// stops the host, which flushes every exporter. When nothing is to be exported no host starts, and the engine's
/// instruments, with no listener, cost next to nothing.
/// </summary>
public sealed class TelemetryHost : IDisposable
{
    private readonly IHost? _host;
    private readonly ChromeTraceExporter? _file;
    private readonly WholeFile? _whole;

    private TelemetryHost(IHost? host, ChromeTraceExporter? file, WholeFile? whole = null) => (_host, _file, _whole) = (host, file, whole);

    /// <summary>The events written to the trace file so far (all of them once disposed).</summary>
    public long TraceFileEvents => _file?.Events ?? 0;

    /// <param name="traceFile">The Chrome trace-event file to write the run's spans to, or null.</param>
    /// <param name="warnings">Where to say that configured telemetry goes nowhere.</param>
    /// <param name="standardOutput">Where a trace file of "-" goes.</param>
    public static TelemetryHost Start(TelemetrySettings settings, string? traceFile, TextWriter warnings, TextWriter? standardOutput = null)
    {
        var traces = settings.TraceRatio > 0 && (settings.HasExporter || traceFile is not null);
        var metrics = settings.Metrics && settings.HasExporter;
        if (settings.TraceRatio > 0 && !traces)
            warnings.WriteLine("faultsim: warning: faults are sampled for tracing but no exporter is set (faultsim.telemetry.exporters or --trace-file): no trace goes anywhere");
        if (settings.Metrics && !metrics)
            warnings.WriteLine("faultsim: warning: faultsim.telemetry.metrics is on but no exporter is set (faultsim.telemetry.exporters): the metrics go nowhere");
        if (!traces && !metrics)
            return new TelemetryHost(null, null);

        WholeFile? whole = null;
        ChromeTraceExporter? file = null;
        if (traceFile == OutputPaths.StandardOutput)
        {
            file = new ChromeTraceExporter(new TextWriterStream(standardOutput ?? Console.Out), DateTime.UtcNow);
        }
        else if (traceFile is not null)
        {
            whole = WholeFile.Create("--trace-file", traceFile);
            file = new ChromeTraceExporter(whole.Stream, DateTime.UtcNow);
        }
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>(); // Ctrl-C is the command's, not the host's (the console lifetime would swallow it)
        builder.Configuration.AddEnvironmentVariables(); // the OTLP exporter's own OTEL_* settings (headers, timeout, …)
        var otel = builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService(settings.ServiceName));
        if (traces)
        {
            otel.WithTracing(t =>
            {
                // Faults are sampled by the engine before any span exists; whatever reaches the SDK is recorded.
                t.AddSource(Instruments.Name).SetSampler(new AlwaysOnSampler());
                if (settings.Console)
                    t.AddConsoleExporter();
                if (file is not null)
                    t.AddProcessor(new SimpleActivityExportProcessor(file));
            });
        }
        if (metrics)
        {
            otel.WithMetrics(m =>
            {
                m.AddMeter(Instruments.Name);
                if (settings.Console)
                    m.AddConsoleExporter();
            });
        }
        if (settings.Otlp)
            otel.UseOtlpExporter(settings.OtlpProtocol, settings.OtlpEndpoint ?? DefaultEndpoint(settings.OtlpProtocol));
        var host = builder.Build();
        host.Start();
        return new TelemetryHost(host, file, whole);
    }

    /// <summary>Marks the trace file partial (the run was interrupted): its JSON says "partial": true when it is closed.</summary>
    public void MarkPartial()
    {
        if (_file is not null)
            _file.Partial = true;
    }

    /// <summary>The host lives exactly as long as the command's run: it neither waits for nor takes any signal.</summary>
    private sealed class CommandLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>OpenTelemetry's default collector address for the protocol.</summary>
    public static Uri DefaultEndpoint(OtlpExportProtocol protocol) =>
        new(protocol == OtlpExportProtocol.Grpc ? "http://localhost:4317" : "http://localhost:4318");

    /// <summary>Stops the host: the providers flush every exporter, and the trace file is closed and put in place whole.</summary>
    public void Dispose()
    {
        if (_host is null)
            return;
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
        _whole?.Commit();
    }
}
