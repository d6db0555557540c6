using VoiceChat.Live.Gemini;

namespace VoiceChat.Tests.Live.Gemini;

public sealed class GeminiOptionsValidatorTests
{
    private static string? Validate(Action<GeminiOptions> configure)
    {
        var options = new VoiceChatOptions();
        configure(options.Gemini);
        var result = new GeminiOptionsValidator().Validate(null, options);
        return result.Failed ? result.FailureMessage : null;
    }

    [Fact]
    public void Developer_api_needs_a_key()
    {
        Validate(_ => { }).Should().Contain("VoiceChat:Gemini:ApiKey is required");
        Validate(o => o.ApiKey = "k").Should().BeNull();
    }

    [Fact]
    public void Vertex_needs_a_project()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("GOOGLE_CLOUD_PROJECT");
        if (string.IsNullOrEmpty(fromEnvironment))
        {
            Validate(o => o.Backend = GeminiBackend.VertexAI).Should().Contain("VoiceChat:Gemini:Project");
        }

        Validate(o => { o.Backend = GeminiBackend.VertexAI; o.Project = "p"; }).Should().BeNull();
    }

    [Fact]
    public void Video_settings_out_of_their_enums_are_named()
    {
        var message = Validate(o =>
        {
            o.ApiKey = "k";
            o.MediaResolution = (MediaResolution)7;
            o.TurnCoverage = (TurnCoverage)9;
        });

        message.Should().Contain("VoiceChat:Gemini:MediaResolution").And.Contain("VoiceChat:Gemini:TurnCoverage");
        Validate(o => { o.ApiKey = "k"; o.MediaResolution = MediaResolution.High; o.TurnCoverage = TurnCoverage.AllInput; }).Should().BeNull();
    }

    [Fact]
    public void Bad_values_are_named()
    {
        var message = Validate(o =>
        {
            o.ApiKey = "k";
            o.Model = " ";
            o.SetupTimeout = TimeSpan.Zero;
            o.ToolTimeout = TimeSpan.FromSeconds(-1);
            o.MaxReconnectAttempts = -1;
            o.BaseUrl = new Uri("ftp://x");
            o.KeepAliveInterval = TimeSpan.FromMinutes(11);
            o.KeepAliveTimeout = TimeSpan.FromSeconds(-5);
        });

        message.Should().Contain("Model").And.Contain("SetupTimeout").And.Contain("ToolTimeout")
            .And.Contain("MaxReconnectAttempts").And.Contain("BaseUrl").And.Contain("KeepAliveInterval").And.Contain("KeepAliveTimeout");
    }

    [Fact]
    public void The_keep_alive_and_its_timeout_may_be_turned_off_with_zero()
    {
        Validate(o => { o.ApiKey = "k"; o.KeepAliveInterval = TimeSpan.Zero; o.KeepAliveTimeout = TimeSpan.Zero; }).Should().BeNull();
    }

    [Fact]
    public void The_key_is_never_in_a_message()
    {
        Validate(o => { o.ApiKey = "secret-key-123"; o.Model = ""; }).Should().NotContain("secret-key-123");
    }
}
