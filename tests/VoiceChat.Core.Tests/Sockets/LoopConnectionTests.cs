using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using VoiceChat.Sockets;

namespace VoiceChat.Tests.Sockets;

/// <summary>
/// Connections opened on real socket loops against a plain <see cref="TcpListener"/> on loopback: what the
/// peer sends and does (close, reset) must reach the pipes exactly as a socket would report it.
/// </summary>
public sealed class LoopConnectionTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LongWait = TimeSpan.FromSeconds(60);

    private readonly ConcurrentQueue<Exception> _loopErrors = new();
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private SocketLoopGroup _loops = null!;

    private int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public Task InitializeAsync()
    {
        _listener.Start();
        _loops = new SocketLoopGroup(new SocketLoopSettings { LoopCount = 2 }, _loopErrors.Enqueue);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _listener.Dispose();
        _loops.Dispose();
        return Task.CompletedTask;
    }

    [LinuxFact]
    public async Task Bytes_go_both_ways()
    {
        var (connection, stream, peer) = await OpenAsync();
        await using var _ = stream;
        using var __ = peer;

        await stream.WriteAsync("hello from the loop"u8.ToArray());
        (await ReadExactlyAsync(peer, 19)).Should().Equal("hello from the loop"u8.ToArray());

        await peer.WriteAsync("hello from the peer"u8.ToArray());
        (await ReadExactlyAsync(stream, 19)).Should().Equal("hello from the peer"u8.ToArray());

        connection.Closed.IsCancellationRequested.Should().BeFalse();
        connection.LocalEndPoint.Should().Be(peer.RemoteEndPoint);
        _loops.ConnectionsOpened.Should().Be(1);
        _loopErrors.Should().BeEmpty();
    }

    [LinuxFact]
    public async Task Megabytes_both_ways_at_once_arrive_intact_through_the_full_pipes()
    {
        var (connection, stream, peer) = await OpenAsync();
        await using var _ = stream;
        using var __ = peer;
        var outbound = RandomBytes(4 * 1024 * 1024, seed: 1);
        var inbound = RandomBytes(4 * 1024 * 1024, seed: 2);

        // The peer reads nothing yet, so the loop's sends soon find the socket buffer full and wait for epoll.
        var clientSends = Task.Run(async () => await stream.WriteAsync(outbound));
        var peerSends = Task.Run(async () => await peer.WriteAsync(inbound));

        // Nothing is consumed until the input pipe holds its limit: the loop must stop reading, and resume below.
        var limit = _loops.Settings.MaxInputBufferBytes;
        long held;
        do
        {
            var result = await connection.Input.ReadAsync().AsTask().WaitAsync(Wait);
            held = result.Buffer.Length;
            connection.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
        while (held < limit);

        var peerReceives = Task.Run(() => ReadExactlyAsync(peer, outbound.Length));
        var received = await ReadExactlyAsync(stream, inbound.Length).WaitAsync(LongWait);
        await Task.WhenAll(clientSends, peerSends).WaitAsync(LongWait);
        var peerReceived = await peerReceives.WaitAsync(LongWait);

        held.Should().BeGreaterThanOrEqualTo(limit);
        SHA256.HashData(received).Should().Equal(SHA256.HashData(inbound), "the peer's 4 MiB arrive in order, none lost or repeated");
        SHA256.HashData(peerReceived).Should().Equal(SHA256.HashData(outbound), "the loop's 4 MiB arrive in order, none lost or repeated");
        _loopErrors.Should().BeEmpty();
    }

    [LinuxFact]
    public async Task A_zero_byte_read_waits_for_data_and_consumes_none_of_it()
    {
        var (_, stream, peer) = await OpenAsync();
        await using var _ = stream;
        using var __ = peer;

        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        waiting.IsCompleted.Should().BeFalse("nothing has been sent yet");

        await peer.WriteAsync("twelve bytes"u8.ToArray());
        (await waiting.WaitAsync(Wait)).Should().Be(0);

        // With data there, a zero-byte read returns at once, still taking nothing.
        (await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(Wait)).Should().Be(0);

        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(Wait);
        Encoding.ASCII.GetString(buffer, 0, read).Should().Be("twelve bytes");
        _loopErrors.Should().BeEmpty();
    }

    [LinuxFact]
    public async Task The_peers_graceful_close_ends_the_stream_and_fires_Closed()
    {
        var (connection, stream, peer) = await OpenAsync();
        await using var _ = stream;
        var closed = WhenCancelled(connection.Closed);
        var reading = stream.ReadAsync(new byte[16]).AsTask();

        peer.Shutdown(SocketShutdown.Send);
        peer.Dispose();

        (await reading.WaitAsync(Wait)).Should().Be(0);
        await closed.WaitAsync(Wait);
        (await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(Wait)).Should().Be(0, "the end of stream stays the end");
        _loopErrors.Should().BeEmpty();
    }

    [LinuxFact]
    public async Task The_peers_reset_makes_a_read_throw_IOException_and_fires_Closed()
    {
        var (connection, stream, peer) = await OpenAsync();
        await using var _ = stream;
        var closed = WhenCancelled(connection.Closed);
        var reading = stream.ReadAsync(new byte[16]).AsTask();

        peer.LingerState = new LingerOption(true, 0);
        peer.Dispose();

        await FluentActions.Awaiting(() => reading.WaitAsync(Wait)).Should().ThrowAsync<IOException>();
        await closed.WaitAsync(Wait);
        _loopErrors.Should().BeEmpty();
    }

    [LinuxFact]
    public async Task Connecting_to_a_port_nobody_listens_on_is_refused()
    {
        var unused = new TcpListener(IPAddress.Loopback, 0);
        unused.Start();
        var port = ((IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop();

        var connecting = async () => await _loops.ConnectAsync("127.0.0.1", port, CancellationToken.None).AsTask().WaitAsync(Wait);

        (await connecting.Should().ThrowAsync<SocketException>()).Which.SocketErrorCode.Should().Be(SocketError.ConnectionRefused);
        _loops.ConnectionsOpened.Should().Be(0);
        _loopErrors.Should().BeEmpty();
    }

    [LinuxFact]
    public async Task Connecting_with_a_cancelled_token_throws_OperationCanceledException()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var connecting = async () => await _loops.ConnectAsync("127.0.0.1", Port, cancelled.Token).AsTask().WaitAsync(Wait);

        await connecting.Should().ThrowAsync<OperationCanceledException>();
        _loopErrors.Should().BeEmpty();
    }

    [LinuxFact]
    public async Task Abort_ends_a_pending_read_with_an_exception_and_fires_Closed()
    {
        var (connection, stream, peer) = await OpenAsync();
        using var _ = peer;
        var closed = WhenCancelled(connection.Closed);
        var reading = stream.ReadAsync(new byte[16]).AsTask();

        connection.Abort(null);

        await FluentActions.Awaiting(() => reading.WaitAsync(Wait)).Should().ThrowAsync<IOException>();
        await closed.WaitAsync(Wait);
        await connection.DisposeAsync().AsTask().WaitAsync(Wait);
        (await peer.ReceiveAsync(new byte[16]).WaitAsync(Wait)).Should().Be(0, "the peer sees the end of the stream");
        _loopErrors.Should().BeEmpty();
    }

    [LinuxFact]
    public async Task Abort_with_a_cancellation_reason_while_a_send_waits_for_room_still_lets_DisposeAsync_close()
    {
        var (connection, stream, peer) = await OpenAsync();
        using var _ = peer;
        peer.ReceiveBufferSize = 64 * 1024; // No autotuning: what the kernel holds for the peer stays small.

        // The peer reads nothing: once the socket buffer is full, the send waits for epoll and the write for the send.
        var writing = stream.WriteAsync(RandomBytes(16 * 1024 * 1024, seed: 3)).AsTask();
        writing.IsCompleted.Should().BeFalse("16 MiB cannot all be in the socket buffers of an unread connection");

        // As Kestrel does: its abort reason is a ConnectionAbortedException, an OperationCanceledException.
        connection.Abort(new OperationCanceledException("The server aborted the connection."));

        await FluentActions.Awaiting(() => writing.WaitAsync(Wait)).Should().ThrowAsync<Exception>();
        await connection.DisposeAsync().AsTask().WaitAsync(Wait);
        (await DrainAsync(peer).WaitAsync(LongWait)).Should().BeGreaterThan(0, "the peer gets what was sent, then the end of the stream");
        _loopErrors.Should().BeEmpty();
    }

    [LinuxFact]
    public async Task DisposeAsync_sends_what_was_written_then_closes_the_socket()
    {
        var (connection, stream, peer) = await OpenAsync();
        using var _ = peer;

        await stream.WriteAsync("last words"u8.ToArray());
        await connection.DisposeAsync().AsTask().WaitAsync(Wait);

        (await ReadExactlyAsync(peer, 10)).Should().Equal("last words"u8.ToArray());
        (await peer.ReceiveAsync(new byte[16]).WaitAsync(Wait)).Should().Be(0, "the peer sees the end of the stream");
        _loopErrors.Should().BeEmpty();
    }

    [LinuxFact]
    public async Task A_connection_still_closes_after_its_loops_have_stopped()
    {
        var (connection, _, peer) = await OpenAsync();
        using var __ = peer;

        // The host stops the loops before the last connections are disposed: the close must not wait for a loop that is gone.
        _loops.Dispose();
        await connection.DisposeAsync().AsTask().WaitAsync(Wait);

        (await peer.ReceiveAsync(new byte[16]).WaitAsync(Wait)).Should().Be(0, "the socket was closed");
        _loopErrors.Should().BeEmpty();
    }

    private async Task<(LoopConnection Connection, DuplexPipeStream Stream, Socket Peer)> OpenAsync()
    {
        var accepting = _listener.AcceptSocketAsync();
        var connection = await _loops.ConnectAsync("127.0.0.1", Port, CancellationToken.None).AsTask().WaitAsync(Wait);
        var peer = await accepting.WaitAsync(Wait);
        return (connection, new DuplexPipeStream(connection), peer);
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int count)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        return await ReadExactlyAsync(stream, count);
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(LongWait);
        return buffer;
    }

    private static async Task<long> DrainAsync(Socket socket)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        for (int read; (read = await socket.ReceiveAsync(buffer)) > 0;)
        {
            total += read;
        }

        return total;
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static Task WhenCancelled(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => cancelled.TrySetResult());
        return cancelled.Task;
    }
}

file static class SocketWrites
{
    public static async Task WriteAsync(this Socket socket, byte[] bytes)
    {
        for (var sent = 0; sent < bytes.Length;)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent));
        }
    }
}
