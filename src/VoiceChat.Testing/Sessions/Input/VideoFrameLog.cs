using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;

namespace VoiceChat.Testing.Sessions.Input;

/// <summary>
/// The video frames received since the model's last turn started: the next reply names them
/// ("I saw 2 frames (image/jpeg 64x48)"), so a test can tell which frames reached the model.
/// </summary>
internal sealed class VideoFrameLog
{
    private readonly Lock _gate = new();
    private readonly List<EmulatorVideoFrame> _frames = [];

    public void Add(EmulatorVideoFrame frame)
    {
        lock (_gate)
        {
            _frames.Add(frame);
        }
    }

    /// <summary>The frames since the last call, and forgets them.</summary>
    public IReadOnlyList<EmulatorVideoFrame> Take()
    {
        lock (_gate)
        {
            if (_frames.Count == 0)
            {
                return [];
            }

            var taken = _frames.ToArray();
            _frames.Clear();
            return taken;
        }
    }

    /// <summary>The sentence a reply says about <paramref name="frames"/>; empty when there were none.</summary>
    public static string Describe(IReadOnlyList<EmulatorVideoFrame> frames)
    {
        if (frames.Count == 0)
        {
            return string.Empty;
        }

        var kinds = frames
            .Select(f => f.Width is { } w && f.Height is { } h ? string.Create(CultureInfo.InvariantCulture, $"{f.MimeType} {w}x{h}") : f.MimeType)
            .Distinct(StringComparer.Ordinal);
        return string.Create(CultureInfo.InvariantCulture, $" I saw {frames.Count} {(frames.Count == 1 ? "frame" : "frames")} ({string.Join(", ", kinds)}).");
    }

    /// <summary>
    /// Decodes and checks a <c>realtimeInput.video</c> blob as the service would: an image/jpeg or image/png
    /// mime type and base64 data. Null when the service would refuse it.
    /// </summary>
    public static EmulatorVideoFrame? Read(string? mimeType, ReadOnlySpan<byte> base64)
    {
        if (mimeType is not ("image/jpeg" or "image/png") || base64.IsEmpty)
        {
            return null;
        }

        var image = ArrayPool<byte>.Shared.Rent(Base64.GetMaxDecodedFromUtf8Length(base64.Length));
        try
        {
            if (Base64.DecodeFromUtf8(base64, image, out _, out var length) != OperationStatus.Done)
            {
                return null;
            }

            var bytes = image.AsSpan(0, length);
            var (width, height) = mimeType == "image/png" ? PngSize(bytes) : JpegSize(bytes);
            return new EmulatorVideoFrame(mimeType, length, width, height);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(image);
        }
    }

    // The IHDR chunk follows the 8-byte signature: width and height, big-endian, at 16 and 20.
    private static (int?, int?) PngSize(ReadOnlySpan<byte> png) =>
        png.Length >= 24 && png[12..16].SequenceEqual("IHDR"u8)
            ? (BinaryPrimitives.ReadInt32BigEndian(png[16..]), BinaryPrimitives.ReadInt32BigEndian(png[20..]))
            : (null, null);

    // Walks the marker segments to the first start-of-frame (SOF0–SOF15 but DHT, JPG and DAC), which holds height then width.
    private static (int?, int?) JpegSize(ReadOnlySpan<byte> jpeg)
    {
        var at = 2;
        while (at + 9 < jpeg.Length && jpeg[at] == 0xFF)
        {
            var marker = jpeg[at + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(at + 2)..]);
            if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
            {
                return (BinaryPrimitives.ReadUInt16BigEndian(jpeg[(at + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(jpeg[(at + 5)..]));
            }

            at += 2 + length;
        }

        return (null, null);
    }
}
