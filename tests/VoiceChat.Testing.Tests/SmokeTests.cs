namespace VoiceChat.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Builds() => typeof(SmokeTests).Assembly.Should().NotBeNull();
}
