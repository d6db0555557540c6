using System.Runtime.InteropServices;

namespace VoiceChat.Sockets;

/// <summary>The few Linux calls the socket loop makes itself: epoll, an eventfd and accept4.</summary>
internal static partial class LinuxSockets
{
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEdgeTriggered = 1u << 31;

    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;

    public const int CloseOnExec = 0x80000; // O_CLOEXEC, EPOLL_CLOEXEC, EFD_CLOEXEC, SOCK_CLOEXEC
    public const int NonBlocking = 0x800;   // O_NONBLOCK, EFD_NONBLOCK, SOCK_NONBLOCK

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ECONNABORTED = 103;

    /// <summary>epoll_event is packed on x86-64 (12 bytes) and naturally aligned elsewhere (16 bytes).</summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static readonly int EpollDataOffset = EpollEventSize == 12 ? 4 : 8;

    public static bool IsSupported => OperatingSystem.IsLinux();

    public static uint EventsAt(ReadOnlySpan<byte> events, int index) =>
        MemoryMarshal.Read<uint>(events[(index * EpollEventSize)..]);

    public static ulong DataAt(ReadOnlySpan<byte> events, int index) =>
        MemoryMarshal.Read<ulong>(events[(index * EpollEventSize + EpollDataOffset)..]);

    public static unsafe int Control(int epoll, int operation, int fd, uint events, ulong data)
    {
        var buffer = stackalloc byte[16];
        *(uint*)buffer = events;
        *(ulong*)(buffer + EpollDataOffset) = data;
        return EpollCtl(epoll, operation, fd, buffer);
    }

    public static unsafe int Wait(int epoll, Span<byte> events, int timeoutMilliseconds)
    {
        fixed (byte* pointer = events)
        {
            return EpollWait(epoll, pointer, events.Length / EpollEventSize, timeoutMilliseconds);
        }
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static unsafe partial int EpollCtl(int epoll, int operation, int fd, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static unsafe partial int EpollWait(int epoll, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(int fd, void* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint Write(int fd, void* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept(int fd, nint address, nint addressLength, int flags);
}
