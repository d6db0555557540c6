using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace VoiceChat.Sample.Conversations;

/// <summary>
/// The sample's conversations in SQLite: one row per conversation (who, when, why it ended, audio and
/// tokens), and its entries in order (what the user and the assistant said, tool calls,
/// interruptions, usage reports).
/// </summary>
public sealed class ConversationStore
{
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS conversations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            user_verified INTEGER NOT NULL,
            metadata TEXT NOT NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            end_reason TEXT,
            duration_seconds REAL NOT NULL DEFAULT 0,
            input_audio_seconds REAL NOT NULL DEFAULT 0,
            output_audio_seconds REAL NOT NULL DEFAULT 0,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            response_tokens INTEGER NOT NULL DEFAULT 0,
            total_tokens INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX IF NOT EXISTS conversations_session ON conversations (session_id, user_id);
        CREATE TABLE IF NOT EXISTS entries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id INTEGER NOT NULL REFERENCES conversations (id),
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS entries_conversation ON entries (conversation_id, id);
        """;

    // The conversation an event belongs to: the latest one of that session id and user (a client may reuse a session id later).
    private const string Current = "(SELECT max(id) FROM conversations WHERE session_id = $session AND user_id = $user)";

    private readonly string _connectionString;
    private readonly string _path;
    private Task? _schema;

    public ConversationStore(IOptions<ConversationHistoryOptions> options, IWebHostEnvironment environment)
    {
        _path = Path.GetFullPath(options.Value.DatabasePath, environment.ContentRootPath);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = _path, Pooling = true }.ToString();
    }

    /// <summary>Records one session event.</summary>
    public async Task RecordAsync(VoiceSessionEvent sessionEvent, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$session", sessionEvent.SessionId);
        command.Parameters.AddWithValue("$user", sessionEvent.UserId);
        command.Parameters.AddWithValue("$at", sessionEvent.Timestamp.ToString("O", CultureInfo.InvariantCulture));
        switch (sessionEvent)
        {
            case VoiceSessionStarted { Resumed: true }:
                // Taken over from another instance: the conversation goes on where it was recorded (a shared
                // database), or starts here (a database of this instance only).
                command.CommandText = $"""
                    UPDATE conversations SET ended_at = NULL, end_reason = NULL WHERE id = {Current};
                    INSERT INTO conversations (session_id, user_id, user_verified, metadata, started_at)
                        SELECT $session, $user, $verified, $metadata, $at WHERE {Current} IS NULL;
                    """;
                AddStarted(command, (VoiceSessionStarted)sessionEvent);
                break;
            case VoiceSessionStarted started:
                command.CommandText = "INSERT INTO conversations (session_id, user_id, user_verified, metadata, started_at) VALUES ($session, $user, $verified, $metadata, $at);";
                AddStarted(command, started);
                break;
            case VoiceSessionTranscript transcript:
                AddEntry(command, transcript.Speaker == VoiceSpeaker.User ? "user" : "assistant", transcript.Text);
                break;
            case VoiceSessionToolCall call:
                AddEntry(command, "tool", FormattableString.Invariant($"{call.Name} ({call.CallId}): {call.Outcome} in {call.Duration.TotalMilliseconds:0} ms"));
                break;
            case VoiceSessionInterrupted:
                AddEntry(command, "interrupted", string.Empty);
                break;
            case VoiceSessionUsage usage:
                command.CommandText = $"""
                    UPDATE conversations SET prompt_tokens = prompt_tokens + $prompt, response_tokens = response_tokens + $response,
                        total_tokens = total_tokens + $total WHERE id = {Current};
                    INSERT INTO entries (conversation_id, at, kind, text) SELECT {Current}, $at, 'usage', $text WHERE {Current} IS NOT NULL;
                    """;
                command.Parameters.AddWithValue("$prompt", usage.PromptTokens);
                command.Parameters.AddWithValue("$response", usage.ResponseTokens);
                command.Parameters.AddWithValue("$total", usage.TotalTokens);
                command.Parameters.AddWithValue("$text", JsonSerializer.Serialize(
                    new UsageEntry(usage.PromptTokens, usage.ResponseTokens, usage.TotalTokens, usage.PromptTokensByModality, usage.ResponseTokensByModality),
                    ConversationJson.Default.UsageEntry));
                break;
            case VoiceSessionEnded ended:
                command.CommandText = $"""
                    UPDATE conversations SET ended_at = $at, end_reason = $reason, duration_seconds = duration_seconds + $duration,
                        input_audio_seconds = input_audio_seconds + $input, output_audio_seconds = output_audio_seconds + $output
                    WHERE id = {Current};
                    """;
                command.Parameters.AddWithValue("$reason", ended.Reason);
                command.Parameters.AddWithValue("$duration", ended.Duration.TotalSeconds);
                command.Parameters.AddWithValue("$input", ended.InputAudio.TotalSeconds);
                command.Parameters.AddWithValue("$output", ended.OutputAudio.TotalSeconds);
                break;
            default:
                return;
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The latest <paramref name="count"/> conversations, newest first, of one user or (null) of everyone, with their entries in order.</summary>
    public async Task<IReadOnlyList<ConversationRecord>> ReadRecentAsync(string? userId, int count, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var conversations = new List<ConversationRecord>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT id, session_id, user_id, user_verified, metadata, started_at, ended_at, end_reason, duration_seconds,
                       input_audio_seconds, output_audio_seconds, prompt_tokens, response_tokens, total_tokens
                FROM conversations WHERE $user IS NULL OR user_id = $user ORDER BY id DESC LIMIT $count;
                """;
            command.Parameters.AddWithValue("$user", (object?)userId ?? DBNull.Value);
            command.Parameters.AddWithValue("$count", count);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                conversations.Add(new ConversationRecord(
                    reader.GetInt64(0),
                    reader.GetString(1),
                    reader.GetString(2),
                    reader.GetBoolean(3),
                    JsonSerializer.Deserialize(reader.GetString(4), ConversationJson.Default.DictionaryStringString) ?? [],
                    DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture),
                    reader.IsDBNull(6) ? null : DateTimeOffset.Parse(reader.GetString(6), CultureInfo.InvariantCulture),
                    reader.IsDBNull(7) ? null : reader.GetString(7),
                    TimeSpan.FromSeconds(reader.GetDouble(8)),
                    TimeSpan.FromSeconds(reader.GetDouble(9)),
                    TimeSpan.FromSeconds(reader.GetDouble(10)),
                    reader.GetInt32(11),
                    reader.GetInt32(12),
                    reader.GetInt32(13),
                    []));
            }
        }

        for (var i = 0; i < conversations.Count; i++)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT at, kind, text FROM entries WHERE conversation_id = $id ORDER BY id;";
            command.Parameters.AddWithValue("$id", conversations[i].Id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var entries = new List<ConversationEntry>();
            while (await reader.ReadAsync(cancellationToken))
            {
                entries.Add(new ConversationEntry(DateTimeOffset.Parse(reader.GetString(0), CultureInfo.InvariantCulture), reader.GetString(1), reader.GetString(2)));
            }

            conversations[i] = conversations[i] with { Entries = entries };
        }

        return conversations;
    }

    private static void AddStarted(SqliteCommand command, VoiceSessionStarted started)
    {
        command.Parameters.AddWithValue("$verified", started.IsUserVerified);
        command.Parameters.AddWithValue("$metadata", JsonSerializer.Serialize(
            new Dictionary<string, string>(started.Metadata, StringComparer.Ordinal),
            ConversationJson.Default.DictionaryStringString));
    }

    private static void AddEntry(SqliteCommand command, string kind, string text)
    {
        command.CommandText = $"INSERT INTO entries (conversation_id, at, kind, text) SELECT {Current}, $at, $kind, $text WHERE {Current} IS NOT NULL;";
        command.Parameters.AddWithValue("$kind", kind);
        command.Parameters.AddWithValue("$text", text);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        // The schema is made once; a failure is tried again by the next event.
        var schema = _schema ??= CreateSchemaAsync();
        try
        {
            await schema.WaitAsync(cancellationToken);
        }
        catch (Exception) when (schema.IsFaulted)
        {
            _schema = null;
            throw;
        }

        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private async Task CreateSchemaAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = Schema;
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>One conversation as the store keeps it.</summary>
public sealed record ConversationRecord(
    long Id,
    string SessionId,
    string UserId,
    bool UserVerified,
    IReadOnlyDictionary<string, string> Metadata,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    string? EndReason,
    TimeSpan Duration,
    TimeSpan InputAudio,
    TimeSpan OutputAudio,
    int PromptTokens,
    int ResponseTokens,
    int TotalTokens,
    IReadOnlyList<ConversationEntry> Entries);

/// <summary>One entry of a conversation: <c>user</c>, <c>assistant</c>, <c>tool</c>, <c>interrupted</c> or <c>usage</c> (its text is JSON).</summary>
public sealed record ConversationEntry(DateTimeOffset At, string Kind, string Text);

/// <summary>A usage report as kept in an entry.</summary>
public sealed record UsageEntry(int Prompt, int Response, int Total, IReadOnlyDictionary<string, int> PromptByModality, IReadOnlyDictionary<string, int> ResponseByModality);
