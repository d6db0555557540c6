using System.Text;

namespace VoiceChat.Live.Gemini;

/// <summary>
/// Turns the service's transcript fragments into the client protocol's transcripts: every fragment
/// is passed on as <c>final:false</c>, and the whole utterance follows as <c>final:true</c> when the
/// service marks it finished or the turn ends (<c>finished</c> often never comes).
/// </summary>
/// <remarks>
/// The user's utterance is also complete once the model starts answering; it is not finalised on
/// <c>interrupted</c>, because fragments that arrive then belong to the user's new utterance.
/// </remarks>
internal sealed class TranscriptAggregator
{
    private readonly StringBuilder _input = new();
    private readonly StringBuilder _output = new();

    public void OnInput(string? text, bool finished, List<LiveEvent> events)
    {
        if (!string.IsNullOrEmpty(text))
        {
            _input.Append(text);
            events.Add(LiveEvent.ForInputTranscript(text, final: false));
        }

        if (finished)
        {
            FlushInput(events);
        }
    }

    public void OnOutput(string? text, bool finished, List<LiveEvent> events)
    {
        if (!string.IsNullOrEmpty(text))
        {
            _output.Append(text);
            events.Add(LiveEvent.ForOutputTranscript(text, final: false));
        }

        if (finished)
        {
            FlushOutput(events);
        }
    }

    /// <summary>The model produced output: whatever the user said before is a whole utterance.</summary>
    public void OnModelOutput(List<LiveEvent> events) => FlushInput(events);

    /// <summary><c>generationComplete</c> or <c>turnComplete</c>.</summary>
    public void OnTurnEnd(List<LiveEvent> events)
    {
        FlushInput(events);
        FlushOutput(events);
    }

    /// <summary><c>interrupted</c>: the model's utterance ends where it was cut.</summary>
    public void OnInterrupted(List<LiveEvent> events) => FlushOutput(events);

    private void FlushInput(List<LiveEvent> events)
    {
        if (_input.Length > 0)
        {
            events.Add(LiveEvent.ForInputTranscript(_input.ToString(), final: true));
            _input.Clear();
        }
    }

    private void FlushOutput(List<LiveEvent> events)
    {
        if (_output.Length > 0)
        {
            events.Add(LiveEvent.ForOutputTranscript(_output.ToString(), final: true));
            _output.Clear();
        }
    }
}
