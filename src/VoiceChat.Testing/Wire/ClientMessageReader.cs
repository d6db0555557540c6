using System.Buffers;
using System.Text.Json;
using VoiceChat.Testing.Audio;

namespace VoiceChat.Testing.Wire;

/// <summary>
/// Reads a client message's kind, and the fields of <c>realtimeInput</c> (the audio path) in the same
/// pass with a <see cref="Utf8JsonReader"/>: no DOM for a 16 KB audio payload.
/// </summary>
internal static class ClientMessageReader
{
    /// <summary>
    /// Returns the top-level key (normalised to lowerCamel), or null when the message is not an object
    /// with exactly one key; for <c>realtimeInput</c>, fills <paramref name="input"/>, or names its first unknown field.
    /// </summary>
    public static string? Read(ReadOnlyMemory<byte> message, ref RealtimeInput input, out string? unknownInRealtime)
    {
        unknownInRealtime = null;
        var reader = new Utf8JsonReader(message.Span, isFinalBlock: true, state: default);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return null;
        }

        if (!reader.Read() || reader.TokenType != JsonTokenType.PropertyName)
        {
            return null;
        }

        string name;
        if (reader.ValueTextEquals("realtimeInput"u8) || reader.ValueTextEquals("realtime_input"u8))
        {
            name = "realtimeInput";
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            unknownInRealtime = ReadRealtimeInput(ref reader, message, ref input);
            if (unknownInRealtime is not null)
            {
                return name;
            }
        }
        else
        {
            name = reader.ValueTextEquals("setup"u8) ? "setup"
                : reader.ValueTextEquals("clientContent"u8) || reader.ValueTextEquals("client_content"u8) ? "clientContent"
                : reader.ValueTextEquals("toolResponse"u8) || reader.ValueTextEquals("tool_response"u8) ? "toolResponse"
                : reader.GetString()!;
            reader.Skip();
        }

        // A message is a oneof: a second top-level key is an invalid argument.
        return reader.Read() && reader.TokenType == JsonTokenType.EndObject ? name : null;
    }

    private static string? ReadRealtimeInput(ref Utf8JsonReader reader, ReadOnlyMemory<byte> message, ref RealtimeInput input)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("audio"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new FormatException();
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("data"u8))
                    {
                        reader.Read();
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            throw new FormatException();
                        }

                        input.HasAudio = true;
                        if (reader.ValueIsEscaped)
                        {
                            // Rare ("\/" from some encoders): unescape into a pooled copy.
                            var copy = ArrayPool<byte>.Shared.Rent(reader.ValueSpan.Length);
                            var written = reader.CopyString(copy);
                            input.SetEscapedData(copy, written);
                        }
                        else
                        {
                            input.Data = message.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
                        }
                    }
                    else if (reader.ValueTextEquals("mimeType"u8) || reader.ValueTextEquals("mime_type"u8))
                    {
                        reader.Read();
                        input.Rate = reader.TokenType == JsonTokenType.String ? PcmAudio.ParseRate(reader.ValueSpan, 16000) : 16000;
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("text"u8))
            {
                reader.Read();
                input.Text = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new FormatException();
            }
            else if (reader.ValueTextEquals("audioStreamEnd"u8) || reader.ValueTextEquals("audio_stream_end"u8))
            {
                reader.Read();
                input.AudioStreamEnd = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("activityStart"u8) || reader.ValueTextEquals("activity_start"u8))
            {
                reader.Skip();
                input.ActivityStart = true;
            }
            else if (reader.ValueTextEquals("activityEnd"u8) || reader.ValueTextEquals("activity_end"u8))
            {
                reader.Skip();
                input.ActivityEnd = true;
            }
            else if (reader.ValueTextEquals("mediaChunks"u8) || reader.ValueTextEquals("media_chunks"u8))
            {
                reader.Skip();
                input.MediaChunks = true;
            }
            else if (reader.ValueTextEquals("video"u8))
            {
                ReadVideo(ref reader, message, ref input);
            }
            else if (reader.ValueTextEquals("media"u8))
            {
                reader.Skip();
            }
            else
            {
                return reader.GetString();
            }
        }

        return null;
    }

    // {"video":{"mimeType":"image/jpeg","data":"<base64>"}}: a Blob, as for audio.
    private static void ReadVideo(ref Utf8JsonReader reader, ReadOnlyMemory<byte> message, ref RealtimeInput input)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException();
        }

        input.HasVideo = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw new FormatException();
                }

                input.VideoData = reader.ValueIsEscaped
                    ? System.Text.Encoding.UTF8.GetBytes(reader.GetString()!)
                    : message.Slice((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
            }
            else if (reader.ValueTextEquals("mimeType"u8) || reader.ValueTextEquals("mime_type"u8))
            {
                reader.Read();
                input.VideoMimeType = reader.TokenType == JsonTokenType.String ? reader.GetString() : throw new FormatException();
            }
            else
            {
                reader.Skip();
            }
        }
    }
}

/// <summary>The fields of one <c>realtimeInput</c> message, read without a DOM.</summary>
internal struct RealtimeInput : IDisposable
{
    private byte[]? _escaped;

    public bool HasAudio;
    public ReadOnlyMemory<byte> Data;
    public int Rate = 16000;
    public string? Text;
    public bool AudioStreamEnd;
    public bool ActivityStart;
    public bool ActivityEnd;
    public bool MediaChunks;
    public bool HasVideo;
    public ReadOnlyMemory<byte> VideoData;
    public string? VideoMimeType;

    public RealtimeInput()
    {
    }

    public void SetEscapedData(byte[] buffer, int length)
    {
        Dispose();
        _escaped = buffer;
        Data = buffer.AsMemory(0, length);
    }

    public void Dispose()
    {
        if (_escaped is not null)
        {
            ArrayPool<byte>.Shared.Return(_escaped);
            _escaped = null;
        }
    }
}
