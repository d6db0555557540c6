using Microsoft.AspNetCore.Builder;

namespace VoiceChat.AspNetCore;

/// <summary>Conventions for the endpoints that <c>MapVoiceChat</c> and <c>MapVoiceChatTickets</c> return (authorisation, rate limiting, CORS, metadata).</summary>
public sealed class VoiceChatEndpointConventionBuilder : IEndpointConventionBuilder
{
    private readonly IEndpointConventionBuilder _inner;

    internal VoiceChatEndpointConventionBuilder(IEndpointConventionBuilder inner)
    {
        _inner = inner;
    }

    /// <inheritdoc />
    public void Add(Action<EndpointBuilder> convention) => _inner.Add(convention);

    /// <inheritdoc />
    public void Finally(Action<EndpointBuilder> finallyConvention) => _inner.Finally(finallyConvention);
}
