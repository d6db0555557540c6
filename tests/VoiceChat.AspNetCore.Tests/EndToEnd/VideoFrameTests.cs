using System.Text.Json;
using VoiceChat.Testing;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>Camera frames from the client reach the model as <c>realtimeInput.video</c>, within their limits.</summary>
public sealed class VideoFrameTests
{
    private const string Video = ""","video":true""";

    [Fact]
    public async Task A_frame_reaches_the_model_and_its_reply_names_it()
    {
        await using var host = await VoiceChatTestHost.StartAsync();
        await using var client = await host.ConnectAsync();
        var started = await client.StartAsync(extraFields: Video);
        started.GetProperty("video_frames_per_second").GetDouble().Should().Be(1);

        await client.SendJsonAsync(TestImages.Frame(TestImages.Jpeg(64, 48)));
        var reply = await AskAsync(client, "What does the sign say?");

        reply.Should().Contain("I saw 1 frame (image/jpeg 64x48)");
        var frame = host.Emulator.Connections.Single().VideoFramesReceived.Should().ContainSingle().Subject;
        frame.Should().Be(new EmulatorVideoFrame("image/jpeg", 256, 64, 48));
    }

    [Fact]
    public async Task A_png_frame_is_forwarded_with_its_type()
    {
        await using var host = await VoiceChatTestHost.StartAsync();
        await using var client = await host.ConnectAsync();
        await client.StartAsync(extraFields: Video);

        await client.SendJsonAsync(TestImages.Frame(TestImages.Png(32, 20), "image/png"));
        var reply = await AskAsync(client, "And this menu?");

        reply.Should().Contain("I saw 1 frame (image/png 32x20)");
    }

    [Fact]
    public async Task A_video_session_declares_compression_media_resolution_and_turn_coverage_in_its_setup()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o =>
        {
            o.Gemini.ContextWindowCompression = false;
            o.Gemini.MediaResolution = MediaResolution.Low;
            o.Gemini.TurnCoverage = TurnCoverage.AllInput;
        });

        await using (var audioOnly = await host.ConnectAsync())
        {
            await audioOnly.StartAsync(userId: "audio");
        }

        await using var video = await host.ConnectAsync();
        await video.StartAsync(userId: "video", extraFields: Video);

        var setups = host.Emulator.Connections.Select(c => JsonDocument.Parse(c.SetupJson!).RootElement.GetProperty("setup")).ToList();
        setups.Should().HaveCount(2);
        setups[0].TryGetProperty("contextWindowCompression", out _).Should().BeFalse("compression is off for audio-only sessions as configured");
        setups[1].GetProperty("contextWindowCompression").GetProperty("slidingWindow").ValueKind.Should().Be(JsonValueKind.Object,
            "the service ends audio and video sessions after 2 minutes without it");
        foreach (var setup in setups)
        {
            setup.GetProperty("generationConfig").GetProperty("mediaResolution").GetString().Should().Be("MEDIA_RESOLUTION_LOW");
            setup.GetProperty("realtimeInputConfig").GetProperty("turnCoverage").GetString().Should().Be("TURN_INCLUDES_ALL_INPUT");
        }
    }

    [Fact]
    public async Task An_oversize_frame_is_dropped_with_an_error_and_the_session_goes_on()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.MaxVideoFrameBytes = 4096);
        await using var client = await host.ConnectAsync();
        await client.StartAsync(extraFields: Video);

        await client.SendJsonAsync(TestImages.Frame(TestImages.Jpeg(640, 480, length: 4097)));

        await ShouldRefuseAsync(client, VoiceChatErrorCodes.VideoFrameTooLarge);
        await client.SendJsonAsync(TestImages.Frame(TestImages.Jpeg(64, 48, length: 4096)));
        (await AskAsync(client, "Better?")).Should().Contain("I saw 1 frame (image/jpeg 64x48)");
        host.Emulator.Connections.Single().VideoFramesReceived.Should().ContainSingle();
    }

    [Fact]
    public async Task A_frame_far_over_the_limit_ends_the_session_as_an_oversize_frame()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.MaxVideoFrameBytes = 4096);
        await using var client = await host.ConnectAsync();
        await client.StartAsync(extraFields: Video);

        // Text frames of a video session hold up to the larger of MaxFrameBytes (64 KiB) and twice the encoded image limit.
        await client.SendJsonAsync(TestImages.Frame(TestImages.Jpeg(640, 480, length: 64 * 1024)));

        var error = await client.WaitForAsync("error");
        error.GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.FrameTooLarge);
        error.GetProperty("fatal").GetBoolean().Should().BeTrue();
        (await client.WaitForCloseAsync()).Should().Be((System.Net.WebSockets.WebSocketCloseStatus)VoiceChatCloseCodes.MessageTooBig);
    }

    public static TheoryData<string, string> BadFrames => new()
    {
        // a JPEG sent as a PNG
        { TestImages.Frame(TestImages.Jpeg(64, 48), "image/png"), VoiceChatErrorCodes.InvalidVideoFrame },
        // a PNG sent as a JPEG
        { TestImages.Frame(TestImages.Png(64, 48), "image/jpeg"), VoiceChatErrorCodes.InvalidVideoFrame },
        // not an image at all
        { TestImages.Frame("GIF89a-not-taken"u8.ToArray(), "image/gif"), VoiceChatErrorCodes.InvalidVideoFrame },
        { """{"type":"video_frame","mime_type":"image/jpeg","data":"%%%"}""", VoiceChatErrorCodes.InvalidVideoFrame },
        { """{"type":"video_frame","data":"/9j/"}""", VoiceChatErrorCodes.InvalidMessage },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task A_frame_that_is_not_what_it_says_is_refused(string frame, string code)
    {
        await using var host = await VoiceChatTestHost.StartAsync();
        await using var client = await host.ConnectAsync();
        await client.StartAsync(extraFields: Video);

        await client.SendJsonAsync(frame);

        await ShouldRefuseAsync(client, code);
        (await AskAsync(client, "Still there?")).Should().NotContain("I saw");
        host.Emulator.Connections.Single().VideoFramesReceived.Should().BeEmpty();
    }

    [Theory]
    [InlineData(1.0, "", "a session that did not declare video")]
    [InlineData(0.0, Video, "a server that takes no video starts a declared video session without it")]
    public async Task Frames_of_a_session_without_video_do_not_get_through(double framesPerSecond, string declare, string because)
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.MaxVideoFramesPerSecond = framesPerSecond);
        await using var client = await host.ConnectAsync();
        var started = await client.StartAsync(extraFields: declare);
        started.TryGetProperty("video_frames_per_second", out _).Should().BeFalse(because);

        await client.SendJsonAsync(TestImages.Frame(TestImages.Jpeg(64, 48)));

        await ShouldRefuseAsync(client, VoiceChatErrorCodes.VideoNotEnabled);
        host.Emulator.Connections.Single().VideoFramesReceived.Should().BeEmpty();
    }

    [Fact]
    public async Task Frames_over_the_rate_are_dropped_and_counted_and_the_client_is_told_once()
    {
        // One frame per 1000 s: of a burst, only the first can pass whatever the machine's speed.
        await using var host = await VoiceChatTestHost.StartAsync(o => o.MaxVideoFramesPerSecond = 0.001);
        await using var client = await host.ConnectAsync();
        await client.StartAsync(extraFields: Video);

        for (var i = 0; i < 5; i++)
        {
            await client.SendJsonAsync(TestImages.Frame(TestImages.Jpeg(64 + i, 48)));
        }

        var reply = await AskAsync(client, "What do you see?");

        reply.Should().Contain("I saw 1 frame (image/jpeg 64x48)");
        host.Emulator.Connections.Single().VideoFramesReceived.Should().ContainSingle().Which.Width.Should().Be(64);
        var dropped = client.Messages.Where(m => m.GetProperty("type").GetString() == "error").ToList();
        dropped.Should().ContainSingle("the client is told once, not for every dropped frame");
        dropped[0].GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.VideoFramesDropped);
        dropped[0].GetProperty("fatal").GetBoolean().Should().BeFalse();
    }

    /// <summary>Sends a typed question and returns the model's final transcript of its answer.</summary>
    private static async Task<string> AskAsync(VoiceClient client, string question)
    {
        await client.SendJsonAsync(JsonSerializer.Serialize(new { type = "text", text = question }));
        await client.WaitForAsync("turn_complete");
        return client.Messages.Last(m => m.GetProperty("type").GetString() == "transcript"
            && m.GetProperty("role").GetString() == "assistant"
            && m.GetProperty("final").GetBoolean()).GetProperty("text").GetString()!;
    }

    private static async Task ShouldRefuseAsync(VoiceClient client, string code)
    {
        var error = await client.WaitForAsync("error");
        error.GetProperty("code").GetString().Should().Be(code);
        error.GetProperty("fatal").GetBoolean().Should().BeFalse();
        error.GetProperty("message").GetString().Should().NotBeNullOrWhiteSpace();
    }
}
