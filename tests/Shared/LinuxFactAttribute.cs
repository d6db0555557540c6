namespace VoiceChat.Tests;

/// <summary>A test of the socket loop, which runs on Linux only (epoll; elsewhere UseVoiceChatSocketLoop changes nothing): skipped elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    /// <summary>Why such a test is skipped elsewhere.</summary>
    public const string SkipReason = "The socket loop runs on Linux only (epoll).";

    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = SkipReason;
        }
    }
}
