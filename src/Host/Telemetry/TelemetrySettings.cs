using Faultsim.Host.Configuration;
using OpenTelemetry.Exporter;

namespace Faultsim.Host.Telemetry;

/// <summary>
/// Where a run's telemetry goes, read from faultsim.telemetry with OpenTelemetry's standard environment variables on
/// top: an operator's OTEL_* settings win over the config file, as they do for any OpenTelemetry service.
/// </summary>
/// <param name="TraceRatio">The fraction of faults traced: 1 for always, 0 for off.</param>
/// <param name="OtlpEndpoint">The collector's base address; null leaves OpenTelemetry's default (localhost, per protocol).</param>
public sealed record TelemetrySettings(string ServiceName, double TraceRatio, bool Metrics, bool Console, bool Otlp,
    Uri? OtlpEndpoint, OtlpExportProtocol OtlpProtocol)
{
    public static readonly string[] Samplers = ["off", "always", "ratio"];
    public static readonly string[] Exporters = ["console", "otlp"];
    public static readonly string[] Protocols = ["http/protobuf", "grpc"];

    /// <summary>No traces, no metrics, nowhere to send them.</summary>
    public static readonly TelemetrySettings Off = new("faultsim", 0, false, false, false, null, OtlpExportProtocol.HttpProtobuf);

    /// <summary>Whether any exporter is configured, to which traces or metrics could go.</summary>
    public bool HasExporter => Console || Otlp;

    /// <param name="root">The faultsim section.</param>
    /// <param name="environment">Reads an environment variable (null when unset).</param>
    internal static TelemetrySettings From(ConfigReader root, Func<string, string?> environment)
    {
        var t = root.Section("telemetry");
        var configured = t.Fraction("traces.ratio"); // checked even while another sampler is chosen
        var ratio = t.Choice("traces.sampler", Samplers) switch
        {
            "always" => 1,
            "ratio" => configured,
            _ => 0.0,
        };
        var exporters = t.Strings("exporters");
        foreach (var unknown in exporters.Where(e => !Exporters.Contains(e)))
            throw t.Error("exporters", $"names '{unknown}'; use console and/or otlp, e.g. [otlp]");
        var endpoint = t.String("otlp.endpoint") is { Length: > 0 } text ? Endpoint(text, () => t.Error("otlp.endpoint", $"is '{text}'; write an absolute URL such as http://localhost:4318")) : null;
        var settings = new TelemetrySettings(
            t.String("service-name") is { Length: > 0 } name ? name : throw t.Error("service-name", "is empty; name the service, e.g. faultsim"),
            ratio, t.Bool("metrics"), exporters.Contains("console"), exporters.Contains("otlp"), endpoint,
            Protocol(t.Choice("otlp.protocol", Protocols)));
        return settings.WithEnvironment(environment);
    }

    /// <summary>
    /// OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER with OTEL_TRACES_SAMPLER_ARG, OTEL_EXPORTER_OTLP_ENDPOINT and
    /// OTEL_EXPORTER_OTLP_PROTOCOL, each where set. Every fault is the root of its own trace, so the parent-based samplers
    /// act as their root samplers.
    /// </summary>
    public TelemetrySettings WithEnvironment(Func<string, string?> environment)
    {
        string? Get(string name) => environment(name) is { Length: > 0 } value ? value.Trim() : null;
        if (Get("OTEL_SDK_DISABLED") is { } disabled && disabled.Equals("true", StringComparison.OrdinalIgnoreCase))
            return Off with { ServiceName = ServiceName };
        var settings = this;
        if (Get("OTEL_SERVICE_NAME") is { } service)
            settings = settings with { ServiceName = service };
        if (Get("OTEL_TRACES_SAMPLER") is { } sampler)
        {
            settings = settings with
            {
                TraceRatio = sampler.ToLowerInvariant() switch
                {
                    "always_on" or "parentbased_always_on" => 1,
                    "always_off" or "parentbased_always_off" => 0,
                    "traceidratio" or "parentbased_traceidratio" => Get("OTEL_TRACES_SAMPLER_ARG") is { } arg ? Ratio(arg) : 1,
                    _ => throw Env("OTEL_TRACES_SAMPLER", $"is '{sampler}'; use always_on, always_off, traceidratio or their parentbased_ forms"),
                },
            };
        }
        if (Get("OTEL_EXPORTER_OTLP_ENDPOINT") is { } endpoint)
            settings = settings with { OtlpEndpoint = Endpoint(endpoint, () => Env("OTEL_EXPORTER_OTLP_ENDPOINT", $"is '{endpoint}'; write an absolute URL such as http://localhost:4318")) };
        if (Get("OTEL_EXPORTER_OTLP_PROTOCOL") is { } protocol)
        {
            settings = settings with
            {
                OtlpProtocol = Protocols.Contains(protocol) ? Protocol(protocol)
                    : throw Env("OTEL_EXPORTER_OTLP_PROTOCOL", $"is '{protocol}'; use http/protobuf or grpc"),
            };
        }
        return settings;
    }

    private static double Ratio(string text) =>
        ConfigReader.TryFraction(text, out var ratio)
            ? ratio
            : throw Env("OTEL_TRACES_SAMPLER_ARG", $"is '{text}'; use a sampling ratio from 0 to 1, e.g. 0.01");

    private static Uri Endpoint(string text, Func<ConfigException> error) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) ? uri : throw error();

    private static OtlpExportProtocol Protocol(string name) => name == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;

    private static ConfigException Env(string variable, string message) => new($"environment variable {variable}", null, message);
}
