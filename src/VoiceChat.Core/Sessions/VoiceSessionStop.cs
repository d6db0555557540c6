namespace VoiceChat.Sessions;

/// <summary>Why a session ends; the first reason recorded wins.</summary>
internal enum VoiceSessionStop
{
    None,

    /// <summary>The client sent <c>end_session</c>: <c>session_ended</c>, close 1000.</summary>
    ClientEnded,

    /// <summary>The client closed or vanished: answer its close, send nothing else.</summary>
    ClientClosed,

    /// <summary>A fatal protocol condition (start or idle timeout, frame too large, duration): <c>error</c>, then its close code.</summary>
    Fatal,

    /// <summary>The server is shutting down: <c>going_away</c>, close 1001.</summary>
    ShuttingDown,

    /// <summary>The model ended the conversation normally: <c>session_ended</c>, close 1000.</summary>
    UpstreamEnded,

    /// <summary>A newer connection resumed the conversation: this one is dropped without a word.</summary>
    Abandoned,
}
