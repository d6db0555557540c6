using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text.Json;

namespace VoiceChat.Live.Gemini;

/// <summary>
/// Reads the service's messages into <see cref="LiveEvent"/>s. <c>serverContent</c>, which carries the
/// audio, is read with <see cref="Utf8JsonReader"/> and its base64 decoded straight into pooled buffers;
/// the rare control messages use a DOM. Unknown keys are ignored. One instance per connection.
/// </summary>
internal sealed class GeminiServerMessageReader
{
    private const int DefaultOutputSampleRate = 24000;

    private readonly TranscriptAggregator _transcripts = new();
    private readonly List<PooledAudio> _audio = [];

    /// <summary>The sample rate of the last audio part that named one that was not 24 kHz (for a warning), else 0.</summary>
    public int UnexpectedSampleRate { get; private set; }

    /// <summary>
    /// Reads one message. Returns false when it is not a JSON object or not UTF-8 (the message is dropped,
    /// and the audio read from it returned to its pool).
    /// </summary>
    public bool Read(ReadOnlySpan<byte> json, List<LiveEvent> events, out bool setupComplete)
    {
        setupComplete = false;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 128 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("serverContent"u8))
                {
                    reader.Read();
                    ReadServerContent(ref reader, events);
                }
                else if (reader.ValueTextEquals("setupComplete"u8))
                {
                    setupComplete = true;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("toolCall"u8))
                {
                    reader.Read();
                    ReadToolCall(JsonElement.ParseValue(ref reader), events);
                }
                else if (reader.ValueTextEquals("toolCallCancellation"u8))
                {
                    reader.Read();
                    ReadToolCallCancellation(JsonElement.ParseValue(ref reader), events);
                }
                else if (reader.ValueTextEquals("goAway"u8))
                {
                    reader.Read();
                    var goAway = JsonElement.ParseValue(ref reader);
                    var timeLeft = goAway.ValueKind == JsonValueKind.Object && goAway.TryGetProperty("timeLeft", out var t) ? ParseDuration(t) : TimeSpan.Zero;
                    events.Add(LiveEvent.ForGoAway(timeLeft));
                }
                else if (reader.ValueTextEquals("sessionResumptionUpdate"u8))
                {
                    reader.Read();
                    var update = JsonElement.ParseValue(ref reader);
                    if (update.ValueKind == JsonValueKind.Object)
                    {
                        var handle = update.TryGetProperty("newHandle", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
                        var resumable = update.TryGetProperty("resumable", out var r) && r.ValueKind == JsonValueKind.True;
                        events.Add(LiveEvent.ForResumptionUpdate(handle, resumable));
                    }
                }
                else if (reader.ValueTextEquals("usageMetadata"u8))
                {
                    reader.Read();
                    var usage = JsonElement.ParseValue(ref reader);
                    if (usage.ValueKind == JsonValueKind.Object)
                    {
                        // Vertex AI names the response counts candidates*.
                        var response = Int(usage, "responseTokenCount");
                        if (response == 0)
                        {
                            response = Int(usage, "candidatesTokenCount");
                        }

                        events.Add(LiveEvent.ForUsage(new LiveUsage(Int(usage, "promptTokenCount"), response, Int(usage, "totalTokenCount"))
                        {
                            PromptByModality = ByModality(usage, "promptTokensDetails"),
                            ResponseByModality = usage.TryGetProperty("responseTokensDetails", out _) ? ByModality(usage, "responseTokensDetails") : ByModality(usage, "candidatesTokensDetails"),
                        }));
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            return true;
        }
        catch (JsonException)
        {
            ReturnAudio();
            return false;
        }
        catch (FormatException)
        {
            ReturnAudio();
            return false;
        }
        catch (InvalidOperationException)
        {
            // A string that is not UTF-8 (JSON in a binary frame is not checked by the framing).
            ReturnAudio();
            return false;
        }
    }

    private void ReadServerContent(ref Utf8JsonReader reader, List<LiveEvent> events)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        string? inputText = null, outputText = null;
        bool inputFinished = false, outputFinished = false;
        bool turnComplete = false, generationComplete = false, interrupted = false;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("modelTurn"u8))
            {
                reader.Read();
                ReadModelTurn(ref reader);
            }
            else if (reader.ValueTextEquals("inputTranscription"u8))
            {
                reader.Read();
                ReadTranscription(ref reader, out inputText, out inputFinished);
            }
            else if (reader.ValueTextEquals("outputTranscription"u8))
            {
                reader.Read();
                ReadTranscription(ref reader, out outputText, out outputFinished);
            }
            else if (reader.ValueTextEquals("turnComplete"u8))
            {
                reader.Read();
                turnComplete = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("generationComplete"u8))
            {
                reader.Read();
                generationComplete = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("interrupted"u8))
            {
                reader.Read();
                interrupted = reader.TokenType == JsonTokenType.True;
            }
            else
            {
                reader.Skip();
            }
        }

        // One message may carry all of these (Gemini 3); they are reported in the order they happen.
        _transcripts.OnInput(inputText, inputFinished, events);
        if (_audio.Count > 0 || !string.IsNullOrEmpty(outputText))
        {
            _transcripts.OnModelOutput(events);
        }

        foreach (var audio in _audio)
        {
            events.Add(LiveEvent.ForAudio(audio));
        }

        _audio.Clear();
        _transcripts.OnOutput(outputText, outputFinished, events);
        if (interrupted)
        {
            _transcripts.OnInterrupted(events);
            events.Add(LiveEvent.Interrupted);
        }

        if (generationComplete)
        {
            _transcripts.OnTurnEnd(events);
            events.Add(LiveEvent.GenerationComplete);
        }

        if (turnComplete)
        {
            _transcripts.OnTurnEnd(events);
            events.Add(LiveEvent.TurnComplete);
        }
    }

    private void ReadModelTurn(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("parts"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    ReadPart(ref reader);
                }
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private void ReadPart(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        // Text parts (thoughts included) are not spoken: in audio mode only inlineData matters.
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("inlineData"u8))
            {
                reader.Read();
                ReadInlineData(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private void ReadInlineData(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        PooledAudio audio = default;
        var isPcm = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String)
                {
                    audio.Return();
                    audio = DecodeBase64(ref reader);
                }
            }
            else if (reader.ValueTextEquals("mimeType"u8))
            {
                reader.Read();
                isPcm = CheckMimeType(ref reader);
            }
            else
            {
                reader.Skip();
            }
        }

        if (isPcm && audio.Length > 0)
        {
            _audio.Add(audio);
        }
        else
        {
            audio.Return();
        }
    }

    private bool CheckMimeType(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        Span<byte> scratch = stackalloc byte[64];
        scoped ReadOnlySpan<byte> mime;
        if (!reader.ValueIsEscaped && !reader.HasValueSequence && reader.ValueSpan.Length <= scratch.Length)
        {
            mime = reader.ValueSpan;
        }
        else if (reader.ValueSpan.Length <= scratch.Length || reader.HasValueSequence)
        {
            var written = reader.CopyString(scratch);
            mime = scratch[..written];
        }
        else
        {
            return false;
        }

        if (!mime.StartsWith("audio/pcm"u8))
        {
            return false;
        }

        // "audio/pcm" without a rate is 24 kHz (Vertex AI sends it so).
        var rateAt = mime.IndexOf("rate="u8);
        if (rateAt >= 0 && Utf8Parser.TryParse(mime[(rateAt + 5)..], out int rate, out _) && rate != DefaultOutputSampleRate)
        {
            UnexpectedSampleRate = rate;
        }

        return true;
    }

    private static PooledAudio DecodeBase64(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence)
        {
            // Rare: an escaped base64 string ("\/"). Unescape through the reader.
            var bytes = reader.GetBytesFromBase64();
            return PooledAudio.CopyOf(bytes);
        }

        var encoded = reader.ValueSpan;
        var array = PooledAudio.Pool.Rent(Math.Max(Base64.GetMaxDecodedFromUtf8Length(encoded.Length), 1));
        var status = Base64.DecodeFromUtf8(encoded, array, out _, out var written);
        if (status != OperationStatus.Done)
        {
            PooledAudio.Pool.Return(array);
            throw new FormatException("The audio data is not valid base64.");
        }

        return new PooledAudio(array, written);
    }

    private static void ReadTranscription(ref Utf8JsonReader reader, out string? text, out bool finished)
    {
        text = null;
        finished = false;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("finished"u8))
            {
                reader.Read();
                finished = reader.TokenType == JsonTokenType.True;
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadToolCall(JsonElement toolCall, List<LiveEvent> events)
    {
        if (toolCall.ValueKind != JsonValueKind.Object || !toolCall.TryGetProperty("functionCalls", out var calls) || calls.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var list = new List<LiveToolCall>(calls.GetArrayLength());
        foreach (var call in calls.EnumerateArray())
        {
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            // Vertex AI may send no id; an empty id is echoed as none.
            var id = call.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : string.Empty;
            var args = call.TryGetProperty("args", out var a) && a.ValueKind == JsonValueKind.Object ? a : EmptyObject;
            list.Add(new LiveToolCall(id, name.GetString()!, args));
        }

        if (list.Count > 0)
        {
            events.Add(LiveEvent.ForToolCalls(list));
        }
    }

    private static void ReadToolCallCancellation(JsonElement cancellation, List<LiveEvent> events)
    {
        if (cancellation.ValueKind != JsonValueKind.Object || !cancellation.TryGetProperty("ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        var list = new List<string>();
        foreach (var id in ids.EnumerateArray())
        {
            if (id.ValueKind == JsonValueKind.String)
            {
                list.Add(id.GetString()!);
            }
        }

        if (list.Count > 0)
        {
            events.Add(LiveEvent.ForToolCallCancellation(list));
        }
    }

    private static readonly JsonElement EmptyObject = JsonElement.Parse("{}"u8);

    /// <summary>A protobuf JSON duration: <c>"50s"</c>, <c>"1.5s"</c>; a bare number is seconds.</summary>
    internal static TimeSpan ParseDuration(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number))
        {
            return TimeSpan.FromSeconds(Math.Max(number, 0));
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            return TimeSpan.Zero;
        }

        var text = value.GetString()!.Trim();
        if (text.EndsWith('s'))
        {
            text = text[..^1];
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.Zero;
    }

    /// <summary><c>[{"modality":"AUDIO","tokenCount":25}, …]</c> as counts by modality; a modality named twice is added up.</summary>
    private static IReadOnlyDictionary<string, int> ByModality(JsonElement usage, string name)
    {
        if (!usage.TryGetProperty(name, out var details) || details.ValueKind != JsonValueKind.Array)
        {
            return LiveUsage.NoDetails;
        }

        Dictionary<string, int>? counts = null;
        foreach (var detail in details.EnumerateArray())
        {
            if (detail.ValueKind == JsonValueKind.Object
                && detail.TryGetProperty("modality", out var modality)
                && modality.ValueKind == JsonValueKind.String
                && modality.GetString() is { Length: > 0 } key)
            {
                counts ??= new Dictionary<string, int>(StringComparer.Ordinal);
                counts[key] = counts.GetValueOrDefault(key) + Int(detail, "tokenCount");
            }
        }

        return counts ?? LiveUsage.NoDetails;
    }

    private static int Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : 0;

    private void ReturnAudio()
    {
        foreach (var audio in _audio)
        {
            audio.Return();
        }

        _audio.Clear();
    }
}
