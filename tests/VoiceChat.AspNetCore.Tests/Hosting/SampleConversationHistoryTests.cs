using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Hosting;

/// <summary>The sample keeps each conversation in SQLite from its session events and shows it at /conversations.</summary>
public sealed class SampleConversationHistoryTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "voicechat-history-" + Guid.NewGuid().ToString("N"));
    private WebApplicationFactory<Program> _factory = null!;
    private Uri _baseUrl = null!;

    private string DatabasePath => Path.Combine(_directory, "conversations.db");

    public Task InitializeAsync()
    {
        (_factory, _baseUrl) = SampleHost.Start(("VoiceChat:Gemini:ApiKey", string.Empty), ("Conversations:DatabasePath", DatabasePath));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_voice_turn_is_kept_in_sqlite_and_shown_on_the_conversations_page()
    {
        string[] finals;
        long audioBytes;
        await using (var client = await VoiceClient.ConnectAsync(new Uri($"ws://{_baseUrl.Authority}/voice")))
        {
            await client.StartAsync("history-user", ""","session_id":"history-1","metadata":{"screen":"home"}""");
            await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.5), Pcm.Silence(1.0)));
            await client.WaitForAsync("turn_complete");
            await client.SendJsonAsync("""{"type":"end_session"}""");
            (await client.WaitForCloseAsync()).Should().Be(WebSocketCloseStatus.NormalClosure);
            finals = [.. client.Messages
                .Where(m => m.GetProperty("type").GetString() == "transcript" && m.GetProperty("final").GetBoolean())
                .Select(m => m.GetProperty("text").GetString()!)];
            audioBytes = client.Audio.Length;
        }

        finals.Should().HaveCount(2);
        await Eventually.TrueAsync(() => Scalar("SELECT count(*) FROM conversations WHERE end_reason IS NOT NULL") == 1L);

        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        var row = await ReadRowAsync(connection, """
            SELECT session_id, user_id, user_verified, metadata, end_reason, input_audio_seconds, output_audio_seconds,
                   prompt_tokens, response_tokens, total_tokens, id FROM conversations
            """);
        row[..5].Should().Equal("history-1", "history-user", 0L, """{"screen":"home"}""", "client_ended");
        row[5].Should().Be(2.5, "1.5 s of speech and 1 s of silence went to the model");
        row[6].Should().Be(audioBytes / 48_000.0);
        ((long)row[7]!).Should().BePositive();
        ((long)row[8]!).Should().BePositive();
        row[9].Should().Be((long)row[7]! + (long)row[8]!);

        var entries = new List<(string Kind, string Text)>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT kind, text FROM entries WHERE conversation_id = $id ORDER BY id";
            command.Parameters.AddWithValue("$id", row[10]);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                entries.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        entries.Select(e => e.Kind).Should().Equal("user", "assistant", "usage");
        entries[0].Text.Should().Be(finals[0]);
        entries[1].Text.Should().Be(finals[1]);
        entries[2].Text.Should().Contain("\"AUDIO\"");

        using var http = new HttpClient { BaseAddress = _baseUrl };
        var page = await http.GetAsync(new Uri("/conversations", UriKind.Relative));
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        var html = await page.Content.ReadAsStringAsync();
        html.Should().Contain("data-session=\"history-1\"").And.Contain("history-user").And.Contain("client_ended").And.Contain("screen=home");
        html.Should().Contain(System.Text.Encodings.Web.HtmlEncoder.Default.Encode(finals[0]));
        html.Should().Contain(System.Text.Encodings.Web.HtmlEncoder.Default.Encode(finals[1]));
    }

    private long Scalar(string sql)
    {
        if (!File.Exists(DatabasePath))
        {
            return -1;
        }

        try
        {
            using var connection = new SqliteConnection($"Data Source={DatabasePath};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return (long)command.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            return -1; // the schema is being made
        }
    }

    private static async Task<object?[]> ReadRowAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        (await reader.ReadAsync()).Should().BeTrue();
        var values = new object?[reader.FieldCount];
        reader.GetValues(values!);
        (await reader.ReadAsync()).Should().BeFalse("one conversation was held");
        return values;
    }
}
