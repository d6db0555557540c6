using VoiceChat.Live;

namespace VoiceChat.Sessions.Events;

/// <summary>The <see cref="VoiceSessionEnded.Reason"/>s: how a conversation's end is named for the app.</summary>
internal static class SessionEndReasons
{
    public const string ClientEnded = "client_ended";
    public const string ClientGone = "client_gone";
    public const string UpstreamEnded = "upstream_ended";
    public const string ShuttingDown = "server_shutting_down";

    /// <summary>A connection's stop reason as the conversation's end: a fatal one by the error code the client was sent.</summary>
    public static string For(VoiceSessionStop stop, LiveError? error) => stop switch
    {
        VoiceSessionStop.ClientEnded => ClientEnded,
        VoiceSessionStop.UpstreamEnded => UpstreamEnded,
        VoiceSessionStop.ShuttingDown => ShuttingDown,
        VoiceSessionStop.Fatal => error?.Code ?? VoiceChatErrorCodes.InternalError,
        _ => ClientGone,
    };
}
