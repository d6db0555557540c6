using Microsoft.Extensions.DependencyInjection;

namespace VoiceChat.AspNetCore.Hosting;

internal sealed class VoiceChatBuilder(IServiceCollection services) : IVoiceChatBuilder
{
    public IServiceCollection Services { get; } = services;
}
