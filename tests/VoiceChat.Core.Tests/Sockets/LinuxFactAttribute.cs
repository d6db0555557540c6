namespace VoiceChat.Tests.Sockets;

/// <summary>A test of the socket loop, which runs on Linux only (epoll); reported as skipped elsewhere.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "The socket loop runs on Linux only (epoll).";
        }
    }
}
