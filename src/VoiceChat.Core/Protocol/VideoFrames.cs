using System.Buffers.Text;

namespace VoiceChat.Protocol;

/// <summary>
/// The <c>video_frame</c> message: a JPEG or PNG picture, checked against its first bytes so that
/// the model service never receives a blob that is not what its <c>mimeType</c> says.
/// </summary>
internal static class VideoFrames
{
    public const string Jpeg = "image/jpeg";
    public const string Png = "image/png";

    /// <summary>
    /// The largest text frame a video session accepts: room for a <c>video_frame</c> twice the image
    /// limit, so a picture somewhat over it is answered with a non-fatal error instead of ending the session.
    /// </summary>
    public static int MaxTextFrameBytes(int maxFrameBytes, int maxVideoFrameBytes) =>
        Math.Max(maxFrameBytes, (int)Math.Min(int.MaxValue, 2L * Base64.GetMaxEncodedToUtf8Length(maxVideoFrameBytes)));

    /// <summary>Whether <paramref name="image"/> starts as an image of <paramref name="mimeType"/> does.</summary>
    public static bool HasSignatureOf(string mimeType, ReadOnlySpan<byte> image) => mimeType switch
    {
        Jpeg => image.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]),
        Png => image.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
        _ => false,
    };

    /// <summary>Builds the <c>video_frame</c> message from its fields; the image buffer moves to the message or is returned.</summary>
    public static ClientMessage Read(ref ClientMessageReader.Fields fields)
    {
        if (!fields.HasData || fields.MimeType is null)
        {
            fields.Audio.Return();
            return ClientMessage.Failure(VoiceChatErrorCodes.InvalidMessage, "Message 'video_frame' needs 'mime_type' and 'data' fields.");
        }

        if (fields.AudioInvalid)
        {
            return ClientMessage.Failure(VoiceChatErrorCodes.InvalidVideoFrame, "Field 'data' is not valid base64; the frame was dropped.");
        }

        var mimeType = fields.MimeType switch
        {
            Jpeg => Jpeg,
            Png => Png,
            _ => null,
        };
        if (mimeType is null)
        {
            fields.Audio.Return();
            return ClientMessage.Failure(VoiceChatErrorCodes.InvalidVideoFrame, "Field 'mime_type' must be image/jpeg or image/png; the frame was dropped.");
        }

        if (!HasSignatureOf(mimeType, fields.Audio.Memory.Span))
        {
            fields.Audio.Return();
            return ClientMessage.Failure(VoiceChatErrorCodes.InvalidVideoFrame, $"The image is not a {(mimeType == Jpeg ? "JPEG" : "PNG")} file as its mime_type says; the frame was dropped.");
        }

        return new ClientMessage { Kind = ClientMessageKind.VideoFrame, Image = fields.Audio, MimeType = mimeType };
    }
}
