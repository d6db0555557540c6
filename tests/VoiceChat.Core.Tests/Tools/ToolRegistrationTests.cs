using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Tools;

namespace VoiceChat.Tests.Tools;

public sealed class ToolRegistrationTests
{
    private sealed class Builder(IServiceCollection services) : IVoiceChatBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    [Theory]
    [InlineData("get_weather")]
    [InlineData("ns.tool:v1-2")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void Valid_names_are_accepted(string name)
    {
        var builder = new Builder(new ServiceCollection());
        builder.AddTool(AIFunctionFactory.Create(() => 1, name));
        VoiceChat.Live.LiveServiceCollectionExtensions.AddGeminiLive(builder.Services);
        builder.Services.BuildServiceProvider().GetRequiredService<ToolRegistry>().Find(name).Should().NotBeNull();
    }

    [Theory]
    [InlineData("get weather")]
    [InlineData("wetter_für_morgen")]
    [InlineData("a2345678901234567890123456789012345678901234567890123456789012345")]
    public void Invalid_names_are_refused_clearly(string name)
    {
        var builder = new Builder(new ServiceCollection());
        var act = () => builder.AddTool(AIFunctionFactory.Create(() => 1, name));
        act.Should().Throw<ArgumentException>().WithMessage($"*{name}*");
    }

    [Fact]
    public void Duplicate_names_are_refused()
    {
        var builder = new Builder(new ServiceCollection());
        builder.AddTool(AIFunctionFactory.Create(() => 1, "t"));
        var act = () => builder.AddTool(AIFunctionFactory.Create(() => 2, "t"));
        act.Should().Throw<ArgumentException>().WithMessage("*already*");
    }

    [Fact]
    public void Results_are_wrapped_as_output()
    {
        var options = AIJsonUtilities.DefaultOptions;
        ToolInvokingLiveConnection.OutputResponse("hi", options).GetRawText().Should().Be("""{"output":"hi"}""");
        ToolInvokingLiveConnection.OutputResponse(null, options).GetRawText().Should().Be("""{"output":null}""");
        ToolInvokingLiveConnection.OutputResponse(JsonDocument.Parse("""{"t":21}""").RootElement, options).GetRawText().Should().Be("""{"output":{"t":21}}""");
        ToolInvokingLiveConnection.OutputResponse(42, options).GetRawText().Should().Be("""{"output":42}""");
        ToolInvokingLiveConnection.ErrorResponse("boom").GetRawText().Should().Be("""{"error":"boom"}""");
    }
}
