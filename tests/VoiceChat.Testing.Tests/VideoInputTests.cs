using System.Net.WebSockets;

namespace VoiceChat.Testing.Tests;

/// <summary><c>realtimeInput.video</c>: blobs checked as the service checks them, counted, and named in the next reply.</summary>
public sealed class VideoInputTests
{
    private const string OutputTranscription = ""","outputAudioTranscription":{}""";

    // A PNG signature and IHDR chunk of a 32x20 image: what the emulator reads the size from.
    private static readonly byte[] Png32x20 =
    [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, (byte)'I', (byte)'H', (byte)'D', (byte)'R',
        0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x14, 0x08, 0x02, 0x00, 0x00, 0x00,
    ];

    // A JPEG start (SOI) and a baseline start-of-frame of a 64x48 image.
    private static readonly byte[] Jpeg64x48 =
    [
        0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x30, 0x00, 0x40, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9,
    ];

    private static string Frame(byte[] image, string mimeType) =>
        $$$$"""{"realtimeInput":{"video":{"mimeType":"{{{{mimeType}}}}","data":"{{{{Convert.ToBase64String(image)}}}}"}}}""";

    [Fact]
    public async Task Frames_are_counted_and_the_next_reply_names_them()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, OutputTranscription, model: LiveTestClient.Model31);

        await client.SendAsync(Frame(Png32x20, "image/png"));
        await client.SendAsync(Frame(Jpeg64x48, "image/jpeg"));
        await client.SendAsync("""{"realtimeInput":{"text":"What is on the menu?"}}""");
        var first = await client.CollectUntilAsync(m => m.IsTurnComplete);
        await client.SendAsync("""{"realtimeInput":{"text":"And now?"}}""");
        var second = await client.CollectUntilAsync(m => m.IsTurnComplete);

        string.Concat(first.Select(m => m.Transcription(false)?.Text))
            .Should().Be("Turn 1: you said \"What is on the menu?\". I saw 2 frames (image/png 32x20, image/jpeg 64x48).");
        string.Concat(second.Select(m => m.Transcription(false)?.Text))
            .Should().Be("Turn 2: you said \"And now?\".", "the frames belong to the turn they came before");
        emulator.Connections[0].VideoFramesReceived.Should().Equal(
            new EmulatorVideoFrame("image/png", Png32x20.Length, 32, 20),
            new EmulatorVideoFrame("image/jpeg", Jpeg64x48.Length, 64, 48));
    }

    [Fact]
    public async Task A_frame_without_a_readable_header_is_counted_without_a_size()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, OutputTranscription, model: LiveTestClient.Model31);

        await client.SendAsync(Frame([0xFF, 0xD8, 0xFF], "image/jpeg"));
        await client.SendAsync("""{"realtimeInput":{"text":"Hm?"}}""");
        var reply = await client.CollectUntilAsync(m => m.IsTurnComplete);

        string.Concat(reply.Select(m => m.Transcription(false)?.Text)).Should().EndWith("I saw 1 frame (image/jpeg).");
    }

    public static TheoryData<string> RefusedBlobs => new()
    {
        Frame(Png32x20, "image/gif"),
        """{"realtimeInput":{"video":{"mimeType":"image/jpeg","data":"%%%"}}}""",
        """{"realtimeInput":{"video":{"mimeType":"image/jpeg"}}}""",
        """{"realtimeInput":{"video":{"data":"/9j/"}}}""",
        """{"realtimeInput":{"video":"/9j/"}}""",
    };

    [Theory]
    [MemberData(nameof(RefusedBlobs))]
    public async Task A_blob_that_is_not_a_base64_jpeg_or_png_is_an_invalid_argument(string message)
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);

        await client.SendAsync(message);
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        emulator.Connections[0].VideoFramesReceived.Should().BeEmpty();
    }

    [Theory]
    [InlineData(""","generationConfig":{"mediaResolution":"MEDIA_RESOLUTION_ULTRA"}""")]
    [InlineData(""","realtimeInputConfig":{"turnCoverage":"TURN_INCLUDES_EVERYTHING"}""")]
    public async Task A_setup_with_an_unknown_media_resolution_or_turn_coverage_is_refused(string fields)
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);

        await client.SendAsync($$$"""{"setup":{"model":"models/{{{LiveTestClient.Model25}}}"{{{fields}}}}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
    }

    [Fact]
    public async Task A_setup_with_media_resolution_and_turn_coverage_is_accepted()
    {
        await using var emulator = await Emulators.StartAsync();

        await using var client = await LiveTestClient.StartAsync(
            emulator, ""","generationConfig":{"mediaResolution":"MEDIA_RESOLUTION_LOW"},"realtimeInputConfig":{"turnCoverage":"TURN_INCLUDES_ALL_INPUT"}""");

        emulator.Connections[0].SetupCompleted.Should().BeTrue();
    }
}
