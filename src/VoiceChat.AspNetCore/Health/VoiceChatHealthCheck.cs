using Microsoft.Extensions.Diagnostics.HealthChecks;
using VoiceChat.Sessions;

namespace VoiceChat.AspNetCore.Health;

/// <summary>Readiness: unhealthy once the server drains for shutdown, so load balancers stop sending new sessions.</summary>
internal sealed class VoiceChatHealthCheck : IHealthCheck
{
    private readonly VoiceSessionRegistry _registry;

    public VoiceChatHealthCheck(VoiceSessionRegistry registry)
    {
        _registry = registry;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object> { ["sessions"] = _registry.Count, ["pending"] = _registry.PendingCount };
        return Task.FromResult(_registry.IsDraining
            ? HealthCheckResult.Unhealthy("The server is shutting down.", data: data)
            : HealthCheckResult.Healthy("Accepting voice sessions.", data));
    }
}
