namespace VoiceChat.Live;

/// <summary>
/// A session's upstream configuration, settled once when the session starts (session hooks included)
/// and reused unchanged for every reconnection of that session.
/// </summary>
internal sealed record LiveSessionSetup(LiveSessionRequest Request, string? SystemInstruction, string? Voice, string? Language);

/// <summary>Opens one upstream connection for a session, optionally resuming an earlier one.</summary>
internal interface IResumableLiveConnector
{
    /// <summary>
    /// Connects and completes the setup handshake, resuming the conversation of
    /// <paramref name="resumptionHandle"/> when given. Throws <see cref="LiveConnectionException"/>;
    /// <see cref="LiveError.Retriable"/> says whether trying again may help.
    /// </summary>
    ValueTask<ILiveConnection> ConnectAsync(LiveSessionSetup setup, string? resumptionHandle, CancellationToken cancellationToken);
}
