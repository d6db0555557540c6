using System.Net;
using System.Text;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Authentication;

public sealed class AuthenticationAbuseTests
{
    private const int Attempts = 1_000;
    private const int FrameBytes = 1280;

    [Fact]
    public async Task A_thousand_bad_tokens_and_tickets_all_get_401_while_a_neighbour_session_loses_no_frame()
    {
        await using var host = await AuthenticationTestHost.StartAsync(emulator: e => e.EchoAudio = true);
        await using var neighbour = await AuthenticationTestHost.StartSessionAsync(host.VoiceUrl, AuthenticationTestHost.Bearer(host.Token("neighbour")));

        using var stopStreaming = new CancellationTokenSource();
        var sent = new MemoryStream();
        var streaming = Task.Run(async () =>
        {
            // Each frame is different, so a lost, repeated or reordered frame shows in the echo.
            for (var frame = 0; frame < 100_000 && !stopStreaming.IsCancellationRequested; frame++)
            {
                var pcm = new byte[FrameBytes];
                BitConverter.TryWriteBytes(pcm, frame).Should().BeTrue();
                sent.Write(pcm);
                await neighbour.SendAudioAsync(pcm);
                await Task.Delay(5);
            }
        });

        var bad = BadCredentials(host).ToArray();
        var statuses = new HttpStatusCode[Attempts];
        using (var invoker = new HttpMessageInvoker(new SocketsHttpHandler()))
        {
            await Parallel.ForAsync(0, Attempts, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
            {
                var (url, header) = bad[i % bad.Length];
                statuses[i] = await AuthenticationTestHost.UpgradeStatusAsync(
                    url,
                    header is null ? null : o => o.SetRequestHeader("Authorization", header),
                    invoker);
            });
        }

        await stopStreaming.CancelAsync();
        await streaming;

        statuses.Should().AllSatisfy(s => s.Should().Be(HttpStatusCode.Unauthorized));
        host.Host.Emulator.Connections.Should().HaveCount(1, "no bad credential reached the model");
        using (var timeout = new CancellationTokenSource(VoiceClient.DefaultWait))
        {
            while (neighbour.Audio.Length < sent.Length)
            {
                await Task.Delay(10, timeout.Token);
            }
        }

        sent.Length.Should().BeGreaterThan(FrameBytes * 10);
        neighbour.Audio.ToArray().Should().Equal(sent.ToArray(), "every frame the neighbour sent came back once, in order");
    }

    /// <summary>Malformed, forged and truncated bearer tokens and tickets, each a (URL, Authorization header) pair.</summary>
    private static IEnumerable<(Uri Url, string? Header)> BadCredentials(AuthenticationTestHost host)
    {
        var valid = host.Token("mallory");
        var forged = Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"sub":"mallory"}""")).TrimEnd('=');
        string[] tokens =
        [
            "", "x", "a.b.c", "a.b", "...", valid[..^5], valid[..(valid.Length / 2)], valid + "x",
            $"{valid.Split('.')[0]}.{forged}.{valid.Split('.')[2]}", $"{valid.Split('.')[0]}.{forged}.",
            "eyJhbGciOiJub25lIn0." + forged + ".", new string('A', 8000),
        ];
        foreach (var token in tokens)
        {
            yield return (host.VoiceUrl, "Bearer " + token);
        }

        yield return (host.VoiceUrl, "Basic bWFsbG9yeTpwYXNz");
        string[] tickets = ["", "x", "%00", "AAAA", new string('A', 5000), valid, Convert.ToBase64String(new byte[200]), "CfDJ8" + new string('B', 120)];
        foreach (var ticket in tickets)
        {
            yield return (host.VoiceUrlWith(ticket), null);
        }

        yield return (new Uri($"{host.VoiceUrl}?ticket=a&ticket=b"), null);
    }
}
