using System.Globalization;

namespace VoiceChat.Testing.Sessions.Turns;

/// <summary>What a user turn consists of: speech, typed text, or nothing (a tool call scripted by a test).</summary>
internal sealed class TurnInput
{
    public static TurnInput None { get; } = new();

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

    /// <summary>This input with the frames that came with it.</summary>
    public TurnInput WithFrames(IReadOnlyList<EmulatorVideoFrame> frames) =>
        frames.Count == 0 ? this : new() { Audio = Audio, SampleRate = SampleRate, Text = Text, Frames = frames };

    /// <summary>Seconds with one decimal, as the emulator's transcriptions and replies state durations.</summary>
    public static string FormatSeconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
}
