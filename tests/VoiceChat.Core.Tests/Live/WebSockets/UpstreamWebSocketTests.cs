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

        await ReceivingFailsTheConnectionAsync(socket, server, closeCode: 1002);
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
        using var socket = await ConnectAsync(server, new() { KeepAliveInterval = TimeSpan.FromSeconds(30) }, time);

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

    [Theory]
    [InlineData("Sec-WebSocket-Extensions: permessage-deflate\r\n", "permessage-deflate")]
    [InlineData("Sec-WebSocket-Protocol: chat\r\n", "chat")]
    public async Task An_upgrade_that_names_an_extension_or_subprotocol_not_asked_for_is_refused(string header, string named)
    {
        await using var server = new RawWebSocketServer(key => RawWebSocketServer.Upgrade(key, header));

        var connecting = () => ConnectAsync(server);

        (await connecting.Should().ThrowAsync<WebSocketUpgradeException>()).Which.Message.Should().Contain(named).And.Contain("not asked for");
        server.RequestHead.Should().NotContain("Sec-WebSocket-Extensions").And.NotContain("Sec-WebSocket-Protocol");
    }

    [Theory]
    [InlineData("in one frame")]
    [InlineData("cut between fragments")]
    [InlineData("ending inside a character")]
    [InlineData("in a close reason")]
    public async Task Text_that_is_not_utf8_fails_the_connection_with_1007(string fault)
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);
        switch (fault)
        {
            case "in one frame":
                await server.SendFrameAsync(1, [0x22, 0xC3, 0x28, 0x22]); // C3 must be followed by a continuation byte
                break;
            case "cut between fragments":
                await server.SendFrameAsync(1, [0x22, 0xE2, 0x82], final: false);
                await server.SendFrameAsync(0, [0x28, 0x22]); // E2 82 28: the third byte is no continuation
                break;
            case "ending inside a character":
                await server.SendFrameAsync(1, [0x22, 0xE2], final: false);
                await server.SendFrameAsync(0, [0x82]);
                break;
            default:
                await server.SendFrameAsync(8, [0x03, 0xE8, 0xFF]);
                break;
        }

        await ReceivingFailsTheConnectionAsync(socket, server, closeCode: 1007);
    }

    [Fact]
    public async Task Text_cut_inside_its_characters_at_every_byte_is_received_whole()
    {
        var text = Encoding.UTF8.GetBytes("\"€ 𝄞 ü\"");
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);

        for (var cut = 1; cut < text.Length; cut++)
        {
            await server.SendFrameAsync(1, text[..cut], final: false);
            await server.SendFrameAsync(0, text[cut..]);

            var message = await ReceiveMessageAsync(socket, bufferSize: 3);
            message.Data.Should().Equal(text, $"the message cut after byte {cut}");
        }
    }

    /// <summary>Close codes no close frame may carry; 1005 (no code) is one too, but a close may be sent without a code.</summary>
    public static TheoryData<int> CodesNeverSent => new() { 0, 999, 1004, 1006, 1015, 1016, 2999, 5000 };

    [Theory]
    [MemberData(nameof(CodesNeverSent))]
    [InlineData(1005)]
    public async Task A_close_code_that_is_never_sent_fails_the_connection_with_1002(int code)
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);

        await server.SendCloseAsync(code);
        await ReceivingFailsTheConnectionAsync(socket, server, closeCode: 1002);
    }

    [Theory]
    [MemberData(nameof(CodesNeverSent))]
    public async Task A_close_code_that_is_never_sent_is_refused_and_not_sent(int code)
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);

        var closing = () => socket.CloseOutputAsync((WebSocketCloseStatus)code, null, CancellationToken.None);

        await closing.Should().ThrowAsync<ArgumentOutOfRangeException>();
        socket.State.Should().Be(WebSocketState.Open);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        (await server.ReadFrameAsync().WaitAsync(Wait)).CloseCode.Should().Be(1000, "the refused close was never sent: this is the first frame");
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1011)]
    [InlineData(1012)]
    [InlineData(1014)]
    [InlineData(3000)]
    [InlineData(4999)]
    public async Task A_close_code_that_may_be_sent_is_reported(int code)
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);

        await server.SendCloseAsync(code);
        var result = await socket.ReceiveAsync(new byte[8].AsMemory(), CancellationToken.None);

        result.MessageType.Should().Be(WebSocketMessageType.Close);
        socket.CloseStatus.Should().Be((WebSocketCloseStatus)code);
    }

    [Fact]
    public async Task A_close_without_a_code_carries_no_payload_and_no_reason()
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server);

        var withReason = () => socket.CloseOutputAsync(WebSocketCloseStatus.Empty, "why", CancellationToken.None);
        await withReason.Should().ThrowAsync<ArgumentException>();
        await socket.CloseOutputAsync(WebSocketCloseStatus.Empty, null, CancellationToken.None);

        var close = await server.ReadFrameAsync().WaitAsync(Wait);
        close.Opcode.Should().Be(8);
        close.Payload.Should().BeEmpty();
    }

    [Fact]
    public async Task A_close_whose_write_returns_after_an_abort_leaves_the_socket_aborted()
    {
        HeldWriteStream? stream = null;
        using var http = HeldWriteStream.Invoker(s => stream = s);
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server, new UpstreamWebSocketOptions(), TimeProvider.System, http: http);
        var hold = stream!.HoldNextWrite();

        var closing = socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        await hold.Written.Task.WaitAsync(Wait);
        socket.Abort();
        hold.Released.SetResult();
        await closing.WaitAsync(Wait);

        socket.State.Should().Be(WebSocketState.Aborted);
        (await server.ReadFrameAsync().WaitAsync(Wait)).Opcode.Should().Be(8);
    }

    [Fact]
    public async Task Nothing_follows_the_close_frame_when_a_ping_and_the_services_close_cross_it()
    {
        // The ping, the local close and the service's close race; whatever the order, no frame goes out
        // after the close frame and both halves of the handshake end the socket Closed.
        for (var round = 0; round < 30; round++)
        {
            await using var server = new RawWebSocketServer();
            using var socket = await ConnectAsync(server);
            var receiving = Task.Run(() => ReceiveMessageAsync(socket));
            var closing = Task.Run(() => socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None));
            await server.SendFrameAsync(9, [(byte)round]);
            await server.SendCloseAsync(1000);

            await closing.WaitAsync(Wait);
            (await receiving.WaitAsync(Wait)).Type.Should().Be(WebSocketMessageType.Close);
            var frame = await server.ReadFrameAsync().WaitAsync(Wait);
            if (frame.Opcode == 10)
            {
                frame = await server.ReadFrameAsync().WaitAsync(Wait); // the pong went out before the close
            }

            frame.Opcode.Should().Be(8);
            socket.State.Should().Be(WebSocketState.Closed);
            socket.Dispose();
            (await server.EndsAsync().WaitAsync(Wait)).Should().BeTrue($"nothing follows the close frame (round {round})");
        }
    }

    [Fact]
    public async Task A_service_that_stops_answering_is_pinged_then_dropped_as_lost()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server, new() { KeepAliveInterval = TimeSpan.FromSeconds(15), KeepAliveTimeout = TimeSpan.FromSeconds(30) }, time);
        var receiving = ReceiveMessageAsync(socket);

        time.Advance(TimeSpan.FromSeconds(15));
        var ping = await server.ReadFrameAsync().WaitAsync(Wait);
        time.Advance(TimeSpan.FromSeconds(29));
        var stateBeforeTimeout = socket.State;
        time.Advance(TimeSpan.FromSeconds(1));

        ping.Opcode.Should().Be(9);
        stateBeforeTimeout.Should().Be(WebSocketState.Open);
        socket.State.Should().Be(WebSocketState.Aborted);
        var failing = () => receiving;
        var failure = (await failing.Should().ThrowAsync<WebSocketException>()).Which;
        failure.WebSocketErrorCode.Should().Be(WebSocketError.ConnectionClosedPrematurely);
        failure.Message.Should().Contain("ping");
    }

    [Fact]
    public async Task A_service_that_answers_within_the_timeout_of_a_ping_keeps_the_connection()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server, new() { KeepAliveInterval = TimeSpan.FromSeconds(15), KeepAliveTimeout = TimeSpan.FromSeconds(30) }, time);

        time.Advance(TimeSpan.FromSeconds(15));
        var ping = await server.ReadFrameAsync().WaitAsync(Wait);
        await server.SendFrameAsync(10, ping.Payload);
        await server.SendFrameAsync(2, [1]); // read after the pong: proves the pong was read
        (await ReceiveMessageAsync(socket)).Data.Should().Equal(1);
        time.Advance(TimeSpan.FromSeconds(30));

        socket.State.Should().Be(WebSocketState.Open);
        time.Advance(TimeSpan.FromSeconds(15));
        (await server.ReadFrameAsync().WaitAsync(Wait)).Opcode.Should().Be(9, "the next ping follows");
    }

    [Fact]
    public async Task A_message_over_the_limit_across_its_fragments_fails_the_connection_with_1009()
    {
        await using var server = new RawWebSocketServer();
        using var socket = await ConnectAsync(server, new() { MaxMessageBytes = 1000 }, TimeProvider.System);

        await server.SendFrameAsync(2, new byte[600], final: false);
        await server.SendFrameAsync(0, new byte[400]);
        (await ReceiveMessageAsync(socket)).Data.Should().HaveCount(1000, "a message of exactly the limit is received");
        await server.SendFrameAsync(2, new byte[600], final: false);
        await server.SendFrameAsync(0, new byte[401]);

        await ReceivingFailsTheConnectionAsync(socket, server, closeCode: 1009);
    }

    // The receive fails as a protocol error, and the service gets a close frame with the code that says why.
    private static async Task ReceivingFailsTheConnectionAsync(WebSocket socket, RawWebSocketServer server, int closeCode)
    {
        var receiving = () => ReceiveMessageAsync(socket);

        (await receiving.Should().ThrowAsync<WebSocketException>()).Which.WebSocketErrorCode.Should().Be(WebSocketError.Faulted);
        socket.State.Should().Be(WebSocketState.Aborted);
        var close = await server.ReadFrameAsync().WaitAsync(Wait);
        close.Opcode.Should().Be(8);
        close.CloseCode.Should().Be(closeCode);
    }

    private static async Task SendTwoStartsAsync(RawWebSocketServer server)
    {
        await server.SendFrameAsync(1, [1], final: false);
        await server.SendFrameAsync(2, [1]);
    }

    private Task<UpstreamWebSocket> ConnectAsync(RawWebSocketServer server, KeyValuePair<string, string>[]? headers = null) =>
        ConnectAsync(server, new UpstreamWebSocketOptions(), TimeProvider.System, headers);

    private Task<UpstreamWebSocket> ConnectAsync(RawWebSocketServer server, UpstreamWebSocketOptions options, TimeProvider time, KeyValuePair<string, string>[]? headers = null, HttpMessageInvoker? http = null) =>
        WebSocketUpgrade.ConnectAsync(server.Uri, http ?? _http, headers ?? [], options, time, CancellationToken.None).WaitAsync(Wait);

    private static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveMessageAsync(WebSocket socket, int bufferSize = 64)
    {
        var data = new List<byte>();
        var buffer = new byte[bufferSize];
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
