using System.Text;
using VoiceChat.Live;
using VoiceChat.Live.Gemini;
using VoiceChat.Tests.Buffers;

namespace VoiceChat.Tests.Live.Gemini;

public sealed class GeminiServerMessageReaderTests
{
    private readonly GeminiServerMessageReader _reader = new();

    private List<LiveEvent> Read(string json, out bool setupComplete)
    {
        var events = new List<LiveEvent>();
        _reader.Read(Encoding.UTF8.GetBytes(json), events, out setupComplete).Should().BeTrue();
        return events;
    }

    private List<LiveEvent> Read(string json) => Read(json, out _);

    private static string Describe(LiveEvent e) => e.Kind switch
    {
        LiveEventKind.Audio => $"audio:{e.Audio.Length}",
        LiveEventKind.InputTranscript => $"user:{e.Text}:{(e.Final ? "final" : "part")}",
        LiveEventKind.OutputTranscript => $"model:{e.Text}:{(e.Final ? "final" : "part")}",
        _ => e.Kind.ToString(),
    };

    [Fact]
    public void Setup_complete_with_and_without_session_id()
    {
        Read("""{"setupComplete":{}}""", out var dev).Should().BeEmpty();
        dev.Should().BeTrue();
        Read("""{"setupComplete":{"sessionId":"f162d11d"}}""", out var vertex).Should().BeEmpty();
        vertex.Should().BeTrue();
    }

    [Fact]
    public void Audio_is_decoded_into_a_pooled_buffer()
    {
        var pcm = Enumerable.Range(0, 4800).Select(i => (byte)i).ToArray();
        var json = """{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":""" + "\"" + Convert.ToBase64String(pcm) + "\"}}]}}}";

        var events = Read(json);

        events.Should().ContainSingle();
        events[0].Kind.Should().Be(LiveEventKind.Audio);
        events[0].Audio.Memory.ToArray().Should().Equal(pcm);
        events[0].Audio.Return();
        _reader.UnexpectedSampleRate.Should().Be(0);
    }

    [Fact]
    public void A_message_with_text_that_is_not_utf8_is_dropped_and_its_audio_goes_back_to_the_pool()
    {
        var json = Encoding.UTF8.GetBytes("""{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"AQIDBA=="}}]},"outputTranscription":{"text":"é"}}}""");
        json[Array.IndexOf(json, (byte)0xC3) + 1] = 0x28; // é (C3 A9) becomes C3 28: not UTF-8
        using var balance = new PoolBalance(PooledAudio.Pool);
        var events = new List<LiveEvent>();

        var read = _reader.Read(json, events, out _);

        read.Should().BeFalse();
        events.Should().BeEmpty();
        balance.Rented.Should().BeGreaterThan(0, "the audio was decoded before the text was read");
        balance.Outstanding.Should().Be(0);
    }

    [Fact]
    public void Audio_without_a_rate_is_accepted_and_data_before_mime_type_works()
    {
        var json = """{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"data":"AQIDBA==","mimeType":"audio/pcm"}}]}}}""";
        var events = Read(json);
        events.Select(Describe).Should().Equal("audio:4");
    }

    [Fact]
    public void Several_parts_transcripts_and_turn_complete_in_one_message_in_order()
    {
        // Gemini 3 bundles parts, transcripts and turnComplete; thoughts and text parts are not spoken.
        var json = """
            {"serverContent":{
              "turnComplete":true,
              "outputTranscription":{"text":" there"},
              "modelTurn":{"parts":[
                {"text":"**Planning**","thought":true},
                {"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"AQI="}},
                {"executableCode":{"code":"print(1)"}},
                {"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"AwQFBg=="}}
              ]},
              "inputTranscription":{"text":"hello"},
              "someFutureField":{"x":[1,2,3]}
            },"usageMetadata":{"promptTokenCount":10,"responseTokenCount":5,"totalTokenCount":15}}
            """;

        var events = Read(json);

        events.Select(Describe).Should().Equal(
            "user:hello:part", "user:hello:final", "audio:2", "audio:4", "model: there:part", "model: there:final", "TurnComplete", "Usage");
        events.Last().Usage.Should().Be(new LiveUsage(10, 5, 15));
    }

    [Fact]
    public void Transcript_fragments_are_aggregated_into_a_final()
    {
        var events = new List<LiveEvent>();
        events.AddRange(Read("""{"serverContent":{"inputTranscription":{"text":"what's"}}}"""));
        events.AddRange(Read("""{"serverContent":{"inputTranscription":{"text":" the weather"}}}"""));
        events.AddRange(Read("""{"serverContent":{"inputTranscription":{"text":"?","finished":true}}}"""));
        events.AddRange(Read("""{"serverContent":{"outputTranscription":{"text":"It is"}}}"""));
        events.AddRange(Read("""{"serverContent":{"outputTranscription":{}}}"""));
        events.AddRange(Read("""{"serverContent":{"outputTranscription":{"text":" sunny."}}}"""));
        events.AddRange(Read("""{"serverContent":{"generationComplete":true}}"""));
        events.AddRange(Read("""{"serverContent":{"turnComplete":true}}"""));

        events.Select(Describe).Should().Equal(
            "user:what's:part", "user: the weather:part", "user:?:part", "user:what's the weather?:final",
            "model:It is:part", "model: sunny.:part", "model:It is sunny.:final", "GenerationComplete", "TurnComplete");
    }

    [Fact]
    public void Interrupted_finalises_the_model_transcript_but_not_the_user_one()
    {
        var events = new List<LiveEvent>();
        events.AddRange(Read("""{"serverContent":{"outputTranscription":{"text":"Let me tell"}}}"""));
        events.AddRange(Read("""{"serverContent":{"inputTranscription":{"text":"stop"}}}"""));
        events.AddRange(Read("""{"serverContent":{"interrupted":true}}"""));
        events.AddRange(Read("""{"serverContent":{"turnComplete":true}}"""));

        events.Select(Describe).Should().Equal(
            "model:Let me tell:part", "user:stop:part", "model:Let me tell:final", "Interrupted", "user:stop:final", "TurnComplete");
    }

    [Fact]
    public void Model_output_completes_the_users_utterance()
    {
        var events = new List<LiveEvent>();
        events.AddRange(Read("""{"serverContent":{"inputTranscription":{"text":"hi"}}}"""));
        events.AddRange(Read("""{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"AQI="}}]}}}"""));

        events.Select(Describe).Should().Equal("user:hi:part", "user:hi:final", "audio:2");
    }

    [Fact]
    public void Tool_call_and_cancellation()
    {
        var call = Read("""{"toolCall":{"functionCalls":[{"id":"function-call-1","name":"get_weather","args":{"city":"Paris"}},{"name":"no_id"}]}}""").Single();
        call.Kind.Should().Be(LiveEventKind.ToolCall);
        call.ToolCalls.Should().HaveCount(2);
        call.ToolCalls![0].Id.Should().Be("function-call-1");
        call.ToolCalls[0].Arguments.GetProperty("city").GetString().Should().Be("Paris");
        call.ToolCalls[1].Id.Should().BeEmpty();
        call.ToolCalls[1].Arguments.EnumerateObject().Should().BeEmpty();

        var cancel = Read("""{"toolCallCancellation":{"ids":["function-call-1"]}}""").Single();
        cancel.CancelledToolCallIds.Should().Equal("function-call-1");
    }

    [Fact]
    public void Go_away_resumption_and_vertex_usage()
    {
        Read("""{"goAway":{"timeLeft":"50s"}}""").Single().TimeLeft.Should().Be(TimeSpan.FromSeconds(50));
        Read("""{"goAway":{"timeLeft":"1.5s"}}""").Single().TimeLeft.Should().Be(TimeSpan.FromSeconds(1.5));

        var update = Read("""{"sessionResumptionUpdate":{"newHandle":"Cig0","resumable":true}}""").Single();
        update.ResumptionHandle.Should().Be("Cig0");
        update.Resumable.Should().BeTrue();
        var empty = Read("""{"sessionResumptionUpdate":{}}""").Single();
        empty.ResumptionHandle.Should().BeNull();
        empty.Resumable.Should().BeFalse();

        Read("""{"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"totalTokenCount":7,"trafficType":"ON_DEMAND"}}""")
            .Single().Usage.Should().Be(new LiveUsage(3, 4, 7));
    }

    [Fact]
    public void Usage_counts_by_modality_are_read_with_either_backends_names()
    {
        var developer = Read("""
            {"usageMetadata":{"promptTokenCount":30,"responseTokenCount":50,"totalTokenCount":80,
              "promptTokensDetails":[{"modality":"AUDIO","tokenCount":25},{"modality":"TEXT","tokenCount":5}],
              "responseTokensDetails":[{"modality":"AUDIO","tokenCount":50}]}}
            """).Single().Usage!;
        developer.PromptByModality.Should().Equal(new Dictionary<string, int> { ["AUDIO"] = 25, ["TEXT"] = 5 });
        developer.ResponseByModality.Should().Equal(new Dictionary<string, int> { ["AUDIO"] = 50 });

        var vertex = Read("""
            {"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":4,"totalTokenCount":7,
              "promptTokensDetails":[{"modality":"TEXT","tokenCount":3},{"modality":"TEXT"},{"tokenCount":9}],
              "candidatesTokensDetails":[{"modality":"AUDIO","tokenCount":4}],"trafficType":"ON_DEMAND"}}
            """).Single().Usage!;
        vertex.ResponseTokens.Should().Be(4);
        vertex.PromptByModality.Should().Equal(new Dictionary<string, int> { ["TEXT"] = 3 }, "a detail without a modality is skipped, one without a count counts 0");
        vertex.ResponseByModality.Should().Equal(new Dictionary<string, int> { ["AUDIO"] = 4 });
    }

    [Fact]
    public void Non_pcm_inline_data_is_dropped()
    {
        Read("""{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"image/png","data":"AQI="}}]}}}""").Should().BeEmpty();
    }

    [Fact]
    public void Escaped_base64_is_decoded()
    {
        // "/" may be escaped in JSON.
        var events = Read("""{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"\/\/8="}}]}}}""");
        events.Single().Audio.Memory.ToArray().Should().Equal(0xFF, 0xFF);
    }

    [Fact]
    public void Other_sample_rate_is_reported()
    {
        Read("""{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=16000","data":"AQI="}}]}}}""");
        _reader.UnexpectedSampleRate.Should().Be(16000);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("not json")]
    [InlineData("""{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"data":"!!!"}}]}}}""")]
    public void Invalid_messages_are_refused(string json)
    {
        var events = new List<LiveEvent>();
        _reader.Read(Encoding.UTF8.GetBytes(json), events, out _).Should().BeFalse();
    }
}
