using System.Buffers.Binary;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using VoiceChat.Live.WebSockets;

namespace VoiceChat.Tests.Live.WebSockets;

public sealed class UpstreamWebSocketTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly HttpMessageInvoker _http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false });

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Upgrade_sends_the_headers_and_text_messages_go_out_masked_with_a_new_key_each()
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server, [new("x-goog-api-key", "secret")]);

        server.RequestHead.Should().StartWith("GET /ws/test HTTP/1.1");
        server.RequestHead.Should().Contain("x-goog-api-key: secret").And.Contain("Sec-WebSocket-Version: 13");
        var first = Encoding.UTF8.GetBytes("""{"realtimeInput":{}}""");
        var second = new byte[70_000];
        Random.Shared.NextBytes(second);
        await socket.SendAsync(first, WebSocketMessageType.Text, true, CancellationToken.None);
        await socket.SendAsync(second, WebSocketMessageType.Binary, true, CancellationToken.None);

        var one = await server.ReadFrameAsync().WaitAsync(Wait);
        var two = await server.ReadFrameAsync().WaitAsync(Wait);
        one.Should().Match<RawWebSocketServer.ClientFrame>(f => f.Final && f.Opcode == 1);
        one.Payload.Should().Equal(first);
        two.Should().Match<RawWebSocketServer.ClientFrame>(f => f.Final && f.Opcode == 2);
        two.Payload.Should().Equal(second);
        two.Key.Should().NotEqual(one.Key);
    }

    [Fact]
    public async Task A_fragmented_message_is_received_whole_and_a_ping_between_its_fragments_is_answered()
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);

        await server.SendFrameAsync(1, Encoding.UTF8.GetBytes("{\"a\":"), final: false);
        await server.SendFrameAsync(9, [7, 7]);
        await server.SendFrameAsync(0, [], final: false);
        await server.SendFrameAsync(0, Encoding.UTF8.GetBytes(new string('x', 300).Insert(0, "\"")), final: false);
        await server.SendFrameAsync(0, Encoding.UTF8.GetBytes("\"}"));

        var message = await ReceiveMessageAsync(socket);
        message.Type.Should().Be(WebSocketMessageType.Text);
        Encoding.UTF8.GetString(message.Data).Should().Be("{\"a\":\"" + new string('x', 300) + "\"}");
        var pong = await server.ReadFrameAsync().WaitAsync(Wait);
        pong.Opcode.Should().Be(10);
        pong.Payload.Should().Equal(7, 7);
    }

    [Fact]
    public async Task A_zero_byte_receive_waits_for_a_message_and_tells_its_type_without_consuming_it()
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);

        var peek = socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).AsTask();
        await Task.Delay(50);
        peek.IsCompleted.Should().BeFalse("nothing was sent yet");
        await server.SendFrameAsync(10, []); // an unsolicited pong is skipped
        await server.SendFrameAsync(2, [1, 2, 3]);
        await server.SendFrameAsync(1, []);

        var result = await peek.WaitAsync(Wait);
        result.Should().Be(new ValueWebSocketReceiveResult(0, WebSocketMessageType.Binary, false));
        var buffer = new byte[16];
        var data = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
        data.Should().Be(new ValueWebSocketReceiveResult(3, WebSocketMessageType.Binary, true));
        buffer[..3].Should().Equal(1, 2, 3);
        var empty = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
        empty.Should().Be(new ValueWebSocketReceiveResult(0, WebSocketMessageType.Text, true));
    }

    [Fact]
    public async Task The_close_handshake_reports_the_services_code_and_reason_and_answers_it()
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);
        var close = new byte[2 + 9];
        BinaryPrimitives.WriteUInt16BigEndian(close, 1011);
        Encoding.UTF8.GetBytes("overload!", close.AsSpan(2));

        await server.SendFrameAsync(8, close);
        var result = await socket.ReceiveAsync(new byte[8].AsMemory(), CancellationToken.None);

        result.MessageType.Should().Be(WebSocketMessageType.Close);
        socket.CloseStatus.Should().Be((WebSocketCloseStatus)1011);
        socket.CloseStatusDescription.Should().Be("overload!");
        socket.State.Should().Be(WebSocketState.CloseReceived);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        socket.State.Should().Be(WebSocketState.Closed);
        var answer = await server.ReadFrameAsync().WaitAsync(Wait);
        answer.Opcode.Should().Be(8);
        BinaryPrimitives.ReadUInt16BigEndian(answer.Payload).Should().Be(1000);
    }

    [Fact]
    public async Task A_close_sent_first_is_answered_by_the_service_and_the_socket_ends_closed()
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);

        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        socket.State.Should().Be(WebSocketState.CloseSent);
        var sent = await server.ReadFrameAsync().WaitAsync(Wait);
        sent.Opcode.Should().Be(8);
        Encoding.UTF8.GetString(sent.Payload.AsSpan(2)).Should().Be("bye");
        var sending = () => socket.SendAsync(new ReadOnlyMemory<byte>(new byte[1]), WebSocketMessageType.Binary, true, CancellationToken.None).AsTask();
        await sending.Should().ThrowAsync<WebSocketException>();

        await server.SendFrameAsync(8, [0x03, 0xE8]);
        var result = await socket.ReceiveAsync(new byte[8].AsMemory(), CancellationToken.None);
        result.MessageType.Should().Be(WebSocketMessageType.Close);
        socket.State.Should().Be(WebSocketState.Closed);
        socket.CloseStatus.Should().Be(WebSocketCloseStatus.NormalClosure);
    }

    [Theory]
    [InlineData("masked")]
    [InlineData("reserved bit")]
    [InlineData("unknown opcode")]
    [InlineData("long ping")]
    [InlineData("stray continuation")]
    [InlineData("new message inside a message")]
    public async Task A_frame_that_breaks_the_protocol_fails_the_receive_and_aborts_the_socket(string fault)
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);
        var send = fault switch
        {
            "masked" => server.SendFrameAsync(1, [1], masked: true),
            "reserved bit" => server.SendFrameAsync(0x40 | 1, [1]),
            "unknown opcode" => server.SendFrameAsync(3, [1]),
            "long ping" => server.SendFrameAsync(9, new byte[126]),
            "stray continuation" => server.SendFrameAsync(0, [1]),
            _ => SendTwoStartsAsync(server),
        };
        await send;

        var receiving = () => ReceiveMessageAsync(socket);

        (await receiving.Should().ThrowAsync<WebSocketException>()).Which.WebSocketErrorCode.Should().Be(WebSocketError.Faulted);
        socket.State.Should().Be(WebSocketState.Aborted);
    }

    [Fact]
    public async Task A_connection_that_ends_without_a_close_frame_is_reported_as_lost()
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);
        await server.SendFrameAsync(1, new byte[10], final: true);
        (await server.Connection).Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);

        (await ReceiveMessageAsync(socket)).Data.Should().HaveCount(10);
        var receiving = () => ReceiveMessageAsync(socket);

        (await receiving.Should().ThrowAsync<WebSocketException>()).Which.WebSocketErrorCode.Should().Be(WebSocketError.ConnectionClosedPrematurely);
    }

    [Fact]
    public async Task An_upgrade_answered_with_an_http_status_reports_that_status()
    {
        await using var server = new RawWebSocketServer(_ => "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n");

        var connecting = () => ConnectAsync(server);

        (await connecting.Should().ThrowAsync<WebSocketUpgradeException>()).Which.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task An_upgrade_with_the_wrong_accept_value_is_refused()
    {
        await using var server = new RawWebSocketServer(_ =>
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n");

        var connecting = () => ConnectAsync(server);

        (await connecting.Should().ThrowAsync<WebSocketUpgradeException>()).Which.Message.Should().Contain("Sec-WebSocket-Accept");
    }

    [Fact]
    public async Task An_idle_connection_sends_a_keep_alive_pong_and_a_busy_one_does_not()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var server = new RawWebSocketServer();
        using var socket = await WebSocketUpgrade.ConnectAsync(server.Uri, _http, [], TimeSpan.FromSeconds(30), time, CancellationToken.None);

        time.Advance(TimeSpan.FromSeconds(20));
        await socket.SendAsync(new byte[] { 42 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(10)); // the tick at 30 s: a message went out since the last one, no pong
        time.Advance(TimeSpan.FromSeconds(30)); // the tick at 60 s: nothing sent since 30 s, a pong

        (await server.ReadFrameAsync().WaitAsync(Wait)).Opcode.Should().Be(2);
        var pong = await server.ReadFrameAsync().WaitAsync(Wait);
        pong.Opcode.Should().Be(10);
        pong.Payload.Should().BeEmpty();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(125)]
    [InlineData(126)]
    [InlineData(65_535)]
    [InlineData(65_536)]
    public void A_masked_frame_unmasks_to_its_payload_with_the_length_in_the_right_form(int length)
    {
        var payload = new byte[length];
        Random.Shared.NextBytes(payload);
        var frame = new byte[WebSocketMask.MaxHeaderLength + length];

        var written = WebSocketMask.WriteMaskedFrame(frame, WebSocketOpcode.Binary, final: true, payload);

        var header = length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10;
        written.Should().Be(header + 4 + length);
        frame[0].Should().Be(0x82);
        (frame[1] & 0x7F).Should().Be(length < 126 ? length : length <= ushort.MaxValue ? 126 : 127);
        var unmasked = new byte[length];
        WebSocketMask.Apply(frame.AsSpan(header + 4, length), unmasked, frame.AsSpan(header, 4));
        unmasked.Should().Equal(payload);
    }

    private static async Task SendTwoStartsAsync(RawWebSocketServer server)
    {
        await server.SendFrameAsync(1, [1], final: false);
        await server.SendFrameAsync(2, [1]);
    }

    private Task<UpstreamWebSocket> ConnectAsync(RawWebSocketServer server, KeyValuePair<string, string>[]? headers = null) =>
        WebSocketUpgrade.ConnectAsync(server.Uri, _http, headers ?? [], Timeout.InfiniteTimeSpan, TimeProvider.System, CancellationToken.None).WaitAsync(Wait);

    private static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveMessageAsync(WebSocket socket)
    {
        var data = new List<byte>();
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(Wait);
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), timeout.Token);
            data.AddRange(buffer.AsSpan(0, result.Count).ToArray());
            if (result.EndOfMessage)
            {
                return (result.MessageType, data.ToArray());
            }
        }
    }
}
