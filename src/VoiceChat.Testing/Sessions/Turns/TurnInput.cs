using System.Globalization;

namespace VoiceChat.Testing.Sessions.Turns;

/// <summary>
/// What a turn answers: the user's speech or typed text, nothing (a tool call scripted by a test), or the
/// result of a non-blocking tool call the model speaks about.
/// </summary>
internal sealed class TurnInput
{
    public static TurnInput None { get; } = new();

    /// <summary>A non-blocking call's result, which the model's turn speaks about.</summary>
    public EmulatorToolResponse? ToolResult { get; private init; }

    public byte[]? Audio { get; private init; }

    public int SampleRate { get; private init; } = 16000;

    public string? Text { get; private init; }

    /// <summary>The video frames that arrived before the turn started.</summary>
    public IReadOnlyList<EmulatorVideoFrame> Frames { get; private init; } = [];

    public TimeSpan AudioDuration => Audio is null ? TimeSpan.Zero : TimeSpan.FromSeconds(Audio.Length / 2.0 / SampleRate);

    /// <summary>What tool-call rules match against: the text, or the input transcription of speech.</summary>
    public string UserText => Text ?? (Audio is null ? string.Empty : $"[heard {FormatSeconds(AudioDuration)} s of audio]");

    public static TurnInput ForAudio(byte[] pcm, int rate) => new() { Audio = pcm, SampleRate = rate };

    public static TurnInput ForText(string text) => new() { Text = text };

    public static TurnInput ForToolResult(EmulatorToolResponse result) => new() { ToolResult = result };

    /// <summary>This input with the frames that came with it.</summary>
    public TurnInput WithFrames(IReadOnlyList<EmulatorVideoFrame> frames) =>
        frames.Count == 0 ? this : new() { ToolResult = ToolResult, Audio = Audio, SampleRate = SampleRate, Text = Text, Frames = frames };

    /// <summary>Seconds with one decimal, as the emulator's transcriptions and replies state durations.</summary>
    public static string FormatSeconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
}
