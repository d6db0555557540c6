using Microsoft.Extensions.Hosting;
using VoiceChat.Sessions;
using VoiceChat.Sessions.Events;

namespace VoiceChat.AspNetCore.Hosting;

/// <summary>
/// On shutdown (SIGTERM), before the web server stops: every session gets <c>going_away</c> and
/// close 1001, readiness fails and new upgrades get 503, all within the close timeout, so a
/// platform that kills the process 10 s after SIGTERM (Cloud Run) does not cut sessions mid-word.
/// Then, before the app's services are disposed, the ended sessions' events reach the app's handlers
/// (each session's within <c>VoiceChat:Events:DrainTimeout</c>).
/// </summary>
internal sealed class VoiceChatShutdownService : IHostedLifecycleService
{
    private readonly VoiceSessionRegistry _registry;
    private readonly SessionEventHub _events;

    public VoiceChatShutdownService(VoiceSessionRegistry registry, SessionEventHub events)
    {
        _registry = registry;
        _events = events;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => _registry.DrainAsync(cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken) =>
        await _events.WhenClosedAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
