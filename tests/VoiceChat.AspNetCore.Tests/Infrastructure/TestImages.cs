using System.Buffers.Binary;

namespace VoiceChat.Tests.Infrastructure;

/// <summary>
/// Small image files with real headers (what the relay checks and the emulator reads its size from),
/// padded to a chosen length.
/// </summary>
public static class TestImages
{
    /// <summary>A baseline JPEG header (SOI, APP0 JFIF, SOF0 with the size), padded with zeros, then EOI.</summary>
    public static byte[] Jpeg(int width, int height, int length = 256)
    {
        byte[] head =
        [
            0xFF, 0xD8,
            0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
            0xFF, 0xC0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
        ];
        BinaryPrimitives.WriteUInt16BigEndian(head.AsSpan(25), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(head.AsSpan(27), (ushort)width);
        var image = new byte[Math.Max(length, head.Length + 2)];
        head.CopyTo(image, 0);
        image[^2] = 0xFF;
        image[^1] = 0xD9;
        return image;
    }

    /// <summary>A PNG signature and IHDR chunk with the size, padded with zeros.</summary>
    public static byte[] Png(int width, int height, int length = 256)
    {
        var image = new byte[Math.Max(length, 33)];
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, (byte)'I', (byte)'H', (byte)'D', (byte)'R'];
        signature.CopyTo(image, 0);
        BinaryPrimitives.WriteInt32BigEndian(image.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(image.AsSpan(20), height);
        image[24] = 8;
        image[25] = 2;
        return image;
    }

    /// <summary>The <c>video_frame</c> message for <paramref name="image"/>.</summary>
    public static string Frame(byte[] image, string mimeType = "image/jpeg") =>
        $$"""{"type":"video_frame","mime_type":"{{mimeType}}","data":"{{Convert.ToBase64String(image)}}"}""";
}
