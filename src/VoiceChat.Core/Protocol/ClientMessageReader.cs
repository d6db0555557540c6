using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using VoiceChat.Live;

namespace VoiceChat.Protocol;

/// <summary>
/// Decodes client text frames with <see cref="Utf8JsonReader"/> in one pass: every field the
/// protocol knows is collected whatever its position, unknown fields are skipped, and the result
/// is validated for the message's <c>type</c>.
/// </summary>
internal static class ClientMessageReader
{
    public const int MaxIdentifierLength = 128;
    public const int MaxMetadataEntries = 32;
    public const int MaxMetadataKeyLength = 64;
    public const int MaxMetadataValueLength = 1024;
    public const int MaxTextLength = 16 * 1024;

    private static readonly int[] AllowedSampleRates = [8000, 16000, 24000, 48000];

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 8 };

    public static bool IsAllowedSampleRate(int rate) => Array.IndexOf(AllowedSampleRates, rate) >= 0;

    public static ClientMessage Read(ReadOnlySpan<byte> utf8Json)
    {
        var fields = default(Fields);
        try
        {
            var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return ClientMessage.Failure(VoiceChatErrorCodes.InvalidJson, "A text frame must hold one JSON object.");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var error = ReadField(ref reader, ref fields);
                if (error is not null)
                {
                    fields.Audio.Return();
                    return ClientMessage.Failure(VoiceChatErrorCodes.InvalidMessage, error);
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                fields.Audio.Return();
                return ClientMessage.Failure(VoiceChatErrorCodes.InvalidJson, "A text frame must hold exactly one JSON object.");
            }
        }
        catch (JsonException)
        {
            fields.Audio.Return();
            return ClientMessage.Failure(VoiceChatErrorCodes.InvalidJson, "The text frame is not valid JSON.");
        }

        return Build(ref fields);
    }

    private static string? ReadField(ref Utf8JsonReader reader, ref Fields fields)
    {
        if (reader.ValueTextEquals("type"u8))
        {
            return ReadString(ref reader, "type", 64, out fields.Type);
        }

        if (reader.ValueTextEquals("data"u8))
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                return "Field 'data' must be a base64 string.";
            }

            fields.Audio.Return();
            fields.AudioInvalid = !TryDecodeBase64(ref reader, out fields.Audio);
            fields.HasData = true;
            return null;
        }

        if (reader.ValueTextEquals("user_id"u8))
        {
            return ReadIdentifier(ref reader, "user_id", MaxIdentifierLength, out fields.UserId);
        }

        if (reader.ValueTextEquals("session_id"u8))
        {
            return ReadIdentifier(ref reader, "session_id", MaxIdentifierLength, out fields.SessionId);
        }

        if (reader.ValueTextEquals("resume_token"u8))
        {
            return ReadString(ref reader, "resume_token", 512, out fields.ResumeToken);
        }

        if (reader.ValueTextEquals("voice"u8))
        {
            return ReadIdentifier(ref reader, "voice", MaxIdentifierLength, out fields.Voice);
        }

        if (reader.ValueTextEquals("language"u8))
        {
            return ReadIdentifier(ref reader, "language", 35, out fields.Language);
        }

        if (reader.ValueTextEquals("text"u8))
        {
            return ReadString(ref reader, "text", MaxTextLength, out fields.Text);
        }

        if (reader.ValueTextEquals("id"u8))
        {
            return ReadString(ref reader, "id", MaxIdentifierLength, out fields.Id);
        }

        if (reader.ValueTextEquals("input_sample_rate"u8))
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                return null;
            }

            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var rate))
            {
                return "Field 'input_sample_rate' must be an integer.";
            }

            fields.InputSampleRate = rate;
            return null;
        }

        if (reader.ValueTextEquals("metadata"u8))
        {
            return ReadMetadata(ref reader, out fields.Metadata);
        }

        if (reader.ValueTextEquals("mime_type"u8))
        {
            return ReadString(ref reader, "mime_type", 64, out fields.MimeType);
        }

        if (reader.ValueTextEquals("video"u8))
        {
            reader.Read();
            if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
            {
                return "Field 'video' must be true or false.";
            }

            fields.Video = reader.TokenType == JsonTokenType.True;
            return null;
        }

        if (reader.ValueTextEquals("received"u8))
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                return null;
            }

            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var received) || received < 0)
            {
                return "Field 'received' must be a non-negative integer.";
            }

            fields.Received = received;
            return null;
        }

        // Unknown fields are ignored so that later protocol versions can add fields.
        reader.Read();
        reader.Skip();
        return null;
    }

    private static ClientMessage Build(ref Fields fields)
    {
        switch (fields.Type)
        {
            case null:
                fields.Audio.Return();
                return ClientMessage.Failure(VoiceChatErrorCodes.UnknownType, "The message has no 'type' field.");
            case "audio":
                if (!fields.HasData)
                {
                    return ClientMessage.Failure(VoiceChatErrorCodes.InvalidMessage, "Message 'audio' needs a 'data' field.");
                }

                if (fields.AudioInvalid)
                {
                    return ClientMessage.Failure(VoiceChatErrorCodes.InvalidAudio, "Field 'data' is not valid base64.");
                }

                if (fields.Audio.Length % 2 != 0)
                {
                    fields.Audio.Return();
                    return ClientMessage.Failure(VoiceChatErrorCodes.InvalidAudio, "PCM16 audio must have an even number of bytes.");
                }

                return new ClientMessage { Kind = ClientMessageKind.Audio, Audio = fields.Audio };
            case "video_frame":
                return VideoFrames.Read(ref fields);
            default:
                // Only 'audio' and 'video_frame' keep their decoded data.
                fields.Audio.Return();
                break;
        }

        switch (fields.Type)
        {
            case "start_session":
                var rate = fields.InputSampleRate ?? 16000;
                if (!IsAllowedSampleRate(rate))
                {
                    return ClientMessage.Failure(VoiceChatErrorCodes.UnsupportedSampleRate, $"input_sample_rate {rate} is not supported; use 8000, 16000, 24000 or 48000.");
                }

                return new ClientMessage
                {
                    Kind = ClientMessageKind.StartSession,
                    Start = new StartSessionMessage(fields.UserId, fields.SessionId, fields.ResumeToken, fields.Voice, fields.Language, rate, fields.Metadata ?? EmptyMetadata, fields.Received, fields.Video),
                };
            case "text":
                return string.IsNullOrWhiteSpace(fields.Text)
                    ? ClientMessage.Failure(VoiceChatErrorCodes.InvalidMessage, "Message 'text' needs a non-empty 'text' field.")
                    : new ClientMessage { Kind = ClientMessageKind.Text, Text = fields.Text };
            case "activity_start":
                return new ClientMessage { Kind = ClientMessageKind.ActivityStart };
            case "activity_end":
                return new ClientMessage { Kind = ClientMessageKind.ActivityEnd };
            case "audio_stream_end":
                return new ClientMessage { Kind = ClientMessageKind.AudioStreamEnd };
            case "end_session":
                return new ClientMessage { Kind = ClientMessageKind.EndSession };
            case "ping":
                return new ClientMessage { Kind = ClientMessageKind.Ping, Text = fields.Id };
            case "ack":
                return fields.Received is { } count
                    ? new ClientMessage { Kind = ClientMessageKind.Ack, Received = count }
                    : ClientMessage.Failure(VoiceChatErrorCodes.InvalidMessage, "Message 'ack' needs a 'received' field.");
            default:
                return ClientMessage.Failure(VoiceChatErrorCodes.UnknownType, $"Unknown message type '{Truncate(fields.Type, 64)}'.");
        }
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();

    /// <summary>
    /// Identifiers reach the logs (and voice and language the model service, whose error texts are
    /// logged), so they hold only characters that cannot break a log line or a log query: letters,
    /// digits and <c>. _ - : @ + |</c> (Firebase uids, e-mail addresses, GUIDs and OIDC subjects
    /// such as <c>google-oauth2|123</c> fit).
    /// </summary>
    public static bool IsValidIdentifier(ReadOnlySpan<char> value, int maxLength = MaxIdentifierLength) =>
        value.Length > 0 && value.Length <= maxLength && !value.ContainsAnyExcept(IdentifierCharacters);

    private static readonly SearchValues<char> IdentifierCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-:@+|");

    private static string? ReadIdentifier(ref Utf8JsonReader reader, string name, int maxLength, out string? value)
    {
        var error = ReadString(ref reader, name, maxLength, out value);
        if (error is null && value is not null && !IsValidIdentifier(value, maxLength))
        {
            value = null;
            return $"Field '{name}' must be 1 to {maxLength} letters, digits or . _ - : @ + |.";
        }

        return error;
    }

    private static string? ReadString(ref Utf8JsonReader reader, string name, int maxLength, out string? value)
    {
        value = null;
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            return $"Field '{name}' must be a string.";
        }

        // Length in bytes bounds the length in characters from above.
        if (reader.ValueSpan.Length > maxLength * 6)
        {
            return $"Field '{name}' is longer than {maxLength} characters.";
        }

        value = reader.GetString();
        return value!.Length > maxLength ? $"Field '{name}' is longer than {maxLength} characters." : null;
    }

    private static string? ReadMetadata(ref Utf8JsonReader reader, out Dictionary<string, string>? metadata)
    {
        metadata = null;
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return "Field 'metadata' must be an object of strings.";
        }

        metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                return $"Field 'metadata.{Truncate(key, 64)}' must be a string.";
            }

            var value = reader.GetString()!;
            if (key.Length > MaxMetadataKeyLength || value.Length > MaxMetadataValueLength)
            {
                return $"Metadata keys are at most {MaxMetadataKeyLength} characters and values at most {MaxMetadataValueLength}.";
            }

            if (metadata.Count == MaxMetadataEntries && !metadata.ContainsKey(key))
            {
                return $"Field 'metadata' holds at most {MaxMetadataEntries} entries.";
            }

            metadata[key] = value;
        }

        return null;
    }

    private static bool TryDecodeBase64(ref Utf8JsonReader reader, out PooledAudio audio)
    {
        audio = default;
        byte[]? unescaped = null;
        try
        {
            ReadOnlySpan<byte> base64;
            if (reader.ValueIsEscaped)
            {
                // Rare: a JSON encoder escaped '/' or '+' as \u002F and the like.
                unescaped = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
                var written = reader.CopyString(unescaped);
                base64 = unescaped.AsSpan(0, written);
            }
            else
            {
                base64 = reader.ValueSpan;
            }

            var array = PooledAudio.Pool.Rent(Math.Max(Base64.GetMaxDecodedFromUtf8Length(base64.Length), 1));
            if (Base64.DecodeFromUtf8(base64, array, out _, out var decoded) != OperationStatus.Done)
            {
                PooledAudio.Pool.Return(array);
                return false;
            }

            audio = new PooledAudio(array, decoded);
            return true;
        }
        finally
        {
            if (unescaped is not null)
            {
                ArrayPool<byte>.Shared.Return(unescaped);
            }
        }
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];

    internal struct Fields
    {
        public string? Type;
        public string? UserId;
        public string? SessionId;
        public string? ResumeToken;
        public string? Voice;
        public string? Language;
        public string? Text;
        public string? Id;
        public string? MimeType;
        public bool Video;
        public int? InputSampleRate;
        public long? Received;
        public Dictionary<string, string>? Metadata;
        public PooledAudio Audio;
        public bool HasData;
        public bool AudioInvalid;
    }
}
