using VoiceChat.Live.Gemini;

namespace VoiceChat.Tests.Live.Gemini;

public sealed class GeminiEndpointTests
{
    [Fact]
    public void Developer_api_default_url()
    {
        GeminiEndpoint.BuildUri(GeminiBackend.DeveloperApi, null, null, "us-central1").ToString().Should().Be(
            "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent");
    }

    [Fact]
    public void Developer_api_version_override()
    {
        GeminiEndpoint.BuildUri(GeminiBackend.DeveloperApi, null, "v1alpha", "x").AbsolutePath.Should().Be(
            "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent");
    }

    [Theory]
    [InlineData("us-central1", "wss://us-central1-aiplatform.googleapis.com/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent")]
    [InlineData("europe-west4", "wss://europe-west4-aiplatform.googleapis.com/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent")]
    [InlineData("global", "wss://aiplatform.googleapis.com/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent")]
    [InlineData("us", "wss://aiplatform.us.rep.googleapis.com/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent")]
    public void Vertex_url_per_location(string location, string expected)
    {
        GeminiEndpoint.BuildUri(GeminiBackend.VertexAI, null, null, location).ToString().Should().Be(expected);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000", "ws://127.0.0.1:5000/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent")]
    [InlineData("http://127.0.0.1:5000/", "ws://127.0.0.1:5000/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent")]
    [InlineData("https://proxy.example/gemini/", "wss://proxy.example/gemini/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent")]
    [InlineData("https://proxy.example/gemini", "wss://proxy.example/gemini/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent")]
    [InlineData("wss://proxy.example:8443", "wss://proxy.example:8443/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent")]
    public void Base_url_override_keeps_path_and_uses_one_slash(string baseUrl, string expected)
    {
        GeminiEndpoint.BuildUri(GeminiBackend.DeveloperApi, new Uri(baseUrl), null, "x").ToString().Should().Be(expected);
    }

    [Fact]
    public void Base_url_override_for_vertex()
    {
        GeminiEndpoint.BuildUri(GeminiBackend.VertexAI, new Uri("http://localhost:81"), "v1", "us-central1").ToString().Should().Be(
            "ws://localhost:81/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent");
    }

    [Fact]
    public void Base_url_with_other_scheme_is_refused()
    {
        var act = () => GeminiEndpoint.BuildUri(GeminiBackend.DeveloperApi, new Uri("ftp://x"), null, "x");
        act.Should().Throw<ArgumentException>();
    }

    [Theory]
    [InlineData(GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-preview-12-2025", "models/gemini-2.5-flash-native-audio-preview-12-2025")]
    [InlineData(GeminiBackend.DeveloperApi, "models/gemini-3.1-flash-live-preview", "models/gemini-3.1-flash-live-preview")]
    [InlineData(GeminiBackend.VertexAI, "gemini-live-2.5-flash-native-audio", "projects/p1/locations/us-central1/publishers/google/models/gemini-live-2.5-flash-native-audio")]
    [InlineData(GeminiBackend.VertexAI, "models/gemini-live-2.5-flash", "projects/p1/locations/us-central1/publishers/google/models/gemini-live-2.5-flash")]
    [InlineData(GeminiBackend.VertexAI, "publishers/google/models/m", "projects/p1/locations/us-central1/publishers/google/models/m")]
    [InlineData(GeminiBackend.VertexAI, "projects/other/locations/eu/publishers/google/models/m", "projects/other/locations/eu/publishers/google/models/m")]
    public void Model_names(GeminiBackend backend, string model, string expected)
    {
        GeminiEndpoint.ModelName(backend, model, "p1", "us-central1").Should().Be(expected);
    }

    [Theory]
    [InlineData("models/gemini-3.1-flash-live-preview", true)]
    [InlineData("projects/p/locations/l/publishers/google/models/gemini-3.1-flash-live-preview", true)]
    [InlineData("models/gemini-2.5-flash-native-audio-preview-12-2025", false)]
    [InlineData("gemini-live-2.5-flash-native-audio", false)]
    public void Model_family(string model, bool gemini3)
    {
        GeminiModelFamilies.Of(model).Should().Be(gemini3 ? GeminiModelFamily.Gemini3 : GeminiModelFamily.Gemini2);
    }

    [Fact]
    public void Project_and_location_come_from_options_before_the_environment()
    {
        var options = new GeminiOptions { Project = "from-options", Location = "europe-west1" };
        GeminiEndpoint.ResolveProject(options).Should().Be("from-options");
        GeminiEndpoint.ResolveLocation(options).Should().Be("europe-west1");
    }
}
