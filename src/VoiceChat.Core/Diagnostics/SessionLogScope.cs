using System.Collections;
using VoiceChat.Sessions;

namespace VoiceChat.Diagnostics;

/// <summary>
/// The logging scope a client connection opens for everything it runs, the model's tasks it starts
/// included: <c>SessionId</c>, read when a log entry is written, since the id is known only after
/// <c>start_session</c>.
/// </summary>
internal sealed class SessionLogScope(VoiceSession session) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public const string SessionIdKey = "SessionId";

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] =>
        index == 0 ? new(SessionIdKey, session.SessionId) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{SessionIdKey}:{session.SessionId}";
}
