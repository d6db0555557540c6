using Microsoft.Extensions.Hosting;
using VoiceChat.Sessions;

namespace VoiceChat.AspNetCore.Hosting;

/// <summary>
/// On shutdown (SIGTERM), before the web server stops: every session gets <c>going_away</c> and
/// close 1001, readiness fails and new upgrades get 503, all within the close timeout, so a
/// platform that kills the process 10 s after SIGTERM (Cloud Run) does not cut sessions mid-word.
/// </summary>
internal sealed class VoiceChatShutdownService : IHostedLifecycleService
{
    private readonly VoiceSessionRegistry _registry;

    public VoiceChatShutdownService(VoiceSessionRegistry registry)
    {
        _registry = registry;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => _registry.DrainAsync(cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
