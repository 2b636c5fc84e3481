using Faultsim.Host.Configuration;
using Faultsim.Host.Telemetry;
using OpenTelemetry.Exporter;

namespace Faultsim.Tests.Host;

/// <summary>faultsim.telemetry and OpenTelemetry's environment variables over it.</summary>
public sealed class TelemetrySettingsTests
{
    private static SimSettings Settings(Dictionary<string, string>? environment, params string[] overrides) =>
        SimSettings.From(ConfigLoader.Load(null, overrides), name => environment?.GetValueOrDefault(name));

    private static TelemetrySettings Telemetry(Dictionary<string, string>? environment, params string[] overrides) =>
        Settings(environment, overrides).Telemetry;

    [Fact]
    public void By_default_nothing_is_traced_and_nothing_exported()
    {
        var settings = Settings(null);
        Assert.Equal(0, settings.Telemetry.TraceRatio);
        Assert.Equal(0, settings.Actors.Run.Tracing.Ratio);
        Assert.False(settings.Telemetry.Metrics);
        Assert.False(settings.Telemetry.HasExporter);
        Assert.Equal("faultsim", settings.Telemetry.ServiceName);
        Assert.Null(settings.Telemetry.OtlpEndpoint);
        Assert.Equal(OtlpExportProtocol.HttpProtobuf, settings.Telemetry.OtlpProtocol);
    }

    [Theory]
    [InlineData("off", 0)]
    [InlineData("always", 1)]
    [InlineData("ratio", 0.25)]
    public void The_sampler_sets_the_ratio_the_engine_samples_faults_by(string sampler, double ratio)
    {
        var settings = Settings(null, $"telemetry.traces.sampler={sampler}", "telemetry.traces.ratio=0.25");
        Assert.Equal(ratio, settings.Telemetry.TraceRatio);
        Assert.Equal(ratio, settings.Actors.Run.Tracing.Ratio);
    }

    [Fact]
    public void Exporters_endpoint_and_protocol_come_from_the_config()
    {
        var t = Telemetry(null, "telemetry.exporters=[console, otlp]", "telemetry.otlp.endpoint=\"http://collector:4317\"",
            "telemetry.otlp.protocol=grpc", "telemetry.metrics=on", "telemetry.service-name=lab");
        Assert.True(t.Console && t.Otlp && t.Metrics);
        Assert.Equal(new Uri("http://collector:4317"), t.OtlpEndpoint);
        Assert.Equal(OtlpExportProtocol.Grpc, t.OtlpProtocol);
        Assert.Equal("lab", t.ServiceName);
    }

    [Theory]
    [InlineData("always_on", null, 1)]
    [InlineData("parentbased_always_on", null, 1)]
    [InlineData("always_off", null, 0)]
    [InlineData("parentbased_always_off", null, 0)]
    [InlineData("traceidratio", "0.5", 0.5)]
    [InlineData("parentbased_traceidratio", "0.125", 0.125)]
    [InlineData("traceidratio", null, 1)]
    public void OTEL_TRACES_SAMPLER_and_its_argument_win_over_the_config(string sampler, string? arg, double ratio)
    {
        var environment = new Dictionary<string, string> { ["OTEL_TRACES_SAMPLER"] = sampler };
        if (arg is not null)
            environment["OTEL_TRACES_SAMPLER_ARG"] = arg;
        var settings = Settings(environment, "telemetry.traces.sampler=ratio", "telemetry.traces.ratio=0.01");
        Assert.Equal(ratio, settings.Telemetry.TraceRatio);
        Assert.Equal(ratio, settings.Actors.Run.Tracing.Ratio);
    }

    [Fact]
    public void The_otlp_variables_and_the_service_name_win_over_the_config()
    {
        var t = Telemetry(new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "https://otel.example:4318",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc",
            ["OTEL_SERVICE_NAME"] = "from-env",
        }, "telemetry.otlp.endpoint=\"http://collector:4318\"");
        Assert.Equal(new Uri("https://otel.example:4318"), t.OtlpEndpoint);
        Assert.Equal(OtlpExportProtocol.Grpc, t.OtlpProtocol);
        Assert.Equal("from-env", t.ServiceName);
    }

    [Fact]
    public void OTEL_SDK_DISABLED_turns_everything_off()
    {
        var settings = Settings(new() { ["OTEL_SDK_DISABLED"] = "true" },
            "telemetry.traces.sampler=always", "telemetry.metrics=on", "telemetry.exporters=[otlp]");
        Assert.Equal(0, settings.Telemetry.TraceRatio);
        Assert.Equal(0, settings.Actors.Run.Tracing.Ratio);
        Assert.False(settings.Telemetry.Metrics || settings.Telemetry.HasExporter);
    }

    [Theory]
    [InlineData("telemetry.traces.sampler=sometimes", "faultsim.telemetry.traces.sampler is 'sometimes'; use one of off, always, ratio")]
    [InlineData("telemetry.traces.ratio=2", "faultsim.telemetry.traces.ratio is '2'; use a number from 0 to 1")]
    [InlineData("telemetry.exporters=[jaeger]", "faultsim.telemetry.exporters names 'jaeger'; use console and/or otlp, e.g. [otlp]")]
    [InlineData("telemetry.otlp.endpoint=\"localhost:4318\"", "faultsim.telemetry.otlp.endpoint is 'localhost:4318'; write an absolute URL such as http://localhost:4318")]
    [InlineData("telemetry.otlp.protocol=udp", "faultsim.telemetry.otlp.protocol is 'udp'; use one of http/protobuf, grpc")]
    [InlineData("telemetry.service-name=\"\"", "faultsim.telemetry.service-name is empty; name the service, e.g. faultsim")]
    public void A_bad_telemetry_key_names_itself_and_the_fix(string assignment, string message)
    {
        var e = Assert.Throws<ConfigException>(() => Settings(null, assignment));
        Assert.Equal($"--set {assignment}: {message}", e.Message);
    }

    [Theory]
    [InlineData("OTEL_TRACES_SAMPLER", "jaeger_remote", "use always_on, always_off, traceidratio or their parentbased_ forms")]
    [InlineData("OTEL_TRACES_SAMPLER_ARG", "half", "use a sampling ratio from 0 to 1, e.g. 0.01")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "collector", "write an absolute URL such as http://localhost:4318")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "use http/protobuf or grpc")]
    public void A_bad_environment_variable_names_itself_and_the_fix(string variable, string value, string fix)
    {
        var environment = new Dictionary<string, string> { [variable] = value };
        if (variable == "OTEL_TRACES_SAMPLER_ARG")
            environment["OTEL_TRACES_SAMPLER"] = "traceidratio";
        var e = Assert.Throws<ConfigException>(() => Settings(environment));
        Assert.Equal($"environment variable {variable}: is '{value}'; {fix}", e.Message);
    }

    [Fact]
    public void The_embedded_config_documents_every_telemetry_key_with_its_default()
    {
        var text = ConfigLoader.DefaultConfigText;
        foreach (var line in new[] { "service-name = faultsim", "sampler = off", "ratio = 0.01", "metrics = off", "exporters = []", "endpoint = \"\"", "protocol = http/protobuf" })
            Assert.Contains(line, text);
        foreach (var variable in new[] { "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL" })
            Assert.Contains(variable, text);
    }
}
