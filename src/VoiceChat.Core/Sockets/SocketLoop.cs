using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Runtime.InteropServices;

namespace VoiceChat.Sockets;

/// <summary>Receives the readiness events of the sockets registered with a <see cref="SocketLoop"/>, on its thread.</summary>
internal interface ISocketEventHandler
{
    void OnSocketEvents(uint events);
}

/// <summary>
/// One thread, one edge-triggered epoll set: the readiness events of its sockets, and work scheduled
/// from other threads, all run on this thread.
/// </summary>
internal sealed class SocketLoop : PipeScheduler, IDisposable
{
    private const int MaxEvents = 1024;
    private const ulong WakeData = ulong.MaxValue;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly Action<Exception> _onError;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<(Action<object?> Action, object? State)> _work = new();
    private readonly Lock _gate = new();
    private ISocketEventHandler?[] _handlers = new ISocketEventHandler?[64];
    private uint[] _generations = new uint[64];
    private readonly Stack<int> _free = new();
    private int _nextSlot;
    private int _wakePending;
    private volatile bool _stopping;
    private volatile bool _stopped;

    public SocketLoop(string name, Action<Exception> onError)
    {
        if (!LinuxSockets.IsSupported)
        {
            throw new PlatformNotSupportedException("The VoiceChat socket loop runs on Linux only (epoll).");
        }

        _onError = onError;
        _epoll = LinuxSockets.EpollCreate(LinuxSockets.CloseOnExec);
        if (_epoll < 0)
        {
            throw new IOException($"epoll_create1 failed (errno {Marshal.GetLastPInvokeError()}).");
        }

        _wake = LinuxSockets.EventFd(0, LinuxSockets.CloseOnExec | LinuxSockets.NonBlocking);
        if (_wake < 0 || LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlAdd, _wake, LinuxSockets.EpollIn | LinuxSockets.EpollEdgeTriggered, WakeData) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (_wake >= 0)
            {
                _ = LinuxSockets.Close(_wake);
            }

            _ = LinuxSockets.Close(_epoll);
            throw new IOException($"eventfd failed (errno {errno}).");
        }

        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Whether the caller runs on this loop's thread.</summary>
    public bool IsCurrentThread => Thread.CurrentThread == _thread;

    /// <summary>Watches <paramref name="fd"/> for input, output and hang-up (edge-triggered); returns the registration.</summary>
    public long Register(nint fd, ISocketEventHandler handler)
    {
        int slot;
        uint generation;
        lock (_gate)
        {
            if (!_free.TryPop(out slot))
            {
                slot = _nextSlot++;
                if (slot == _handlers.Length)
                {
                    Array.Resize(ref _handlers, slot * 2);
                    Array.Resize(ref _generations, slot * 2);
                }
            }

            _handlers[slot] = handler;
            generation = ++_generations[slot];
        }

        var registration = (long)(((ulong)generation << 32) | (uint)slot);
        const uint Events = LinuxSockets.EpollIn | LinuxSockets.EpollOut | LinuxSockets.EpollRdHup | LinuxSockets.EpollEdgeTriggered;
        if (LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlAdd, (int)fd, Events, (ulong)registration) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            Release(registration);
            throw new IOException($"epoll_ctl failed (errno {errno}).");
        }

        return registration;
    }

    /// <summary>Stops watching <paramref name="fd"/>; events already fetched for it are dropped.</summary>
    public void Unregister(nint fd, long registration)
    {
        _ = LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlDel, (int)fd, 0, 0);
        Release(registration);
    }

    /// <summary>Runs <paramref name="action"/> on the loop's thread, after the events it is handling.</summary>
    public override void Schedule(Action<object?> action, object? state)
    {
        _work.Enqueue((action, state));
        if (_stopped)
        {
            // The thread has ended (the host is stopping): closes still have to run, so run them here.
            RunWork();
        }
        else if (!IsCurrentThread && Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            Wake();
        }
    }

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        Wake();
        if (!IsCurrentThread)
        {
            _thread.Join();
        }

        _ = LinuxSockets.Close(_wake);
        _ = LinuxSockets.Close(_epoll);
    }

    private unsafe void Wake()
    {
        ulong one = 1;
        _ = LinuxSockets.Write(_wake, &one, sizeof(ulong));
    }

    private void Release(long registration)
    {
        var slot = (int)(uint)registration;
        lock (_gate)
        {
            if (_generations[slot] == (uint)((ulong)registration >> 32) && _handlers[slot] is not null)
            {
                _handlers[slot] = null;
                _generations[slot]++;
                _free.Push(slot);
            }
        }
    }

    private ISocketEventHandler? Find(ulong data)
    {
        var slot = (int)(uint)data;
        lock (_gate)
        {
            return _generations[slot] == (uint)(data >> 32) ? _handlers[slot] : null;
        }
    }

    private void Run()
    {
        var events = GC.AllocateArray<byte>(MaxEvents * LinuxSockets.EpollEventSize, pinned: true);
        while (!_stopping)
        {
            // Work this thread scheduled for itself must not wait for the next socket event.
            var count = LinuxSockets.Wait(_epoll, events, _work.IsEmpty ? -1 : 0);
            if (count < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == LinuxSockets.EINTR)
                {
                    continue;
                }

                _onError(new IOException($"epoll_wait failed (errno {errno}); the socket loop stops."));
                break;
            }

            for (var i = 0; i < count; i++)
            {
                var data = LinuxSockets.DataAt(events, i);
                if (data == WakeData)
                {
                    DrainWake();
                    continue;
                }

                try
                {
                    Find(data)?.OnSocketEvents(LinuxSockets.EventsAt(events, i));
                }
                catch (Exception ex)
                {
                    _onError(ex);
                }
            }

            RunWork();
        }

        _stopped = true;
        RunWork();
    }

    private unsafe void DrainWake()
    {
        ulong value;
        _ = LinuxSockets.Read(_wake, &value, sizeof(ulong));
        Volatile.Write(ref _wakePending, 0);
    }

    private void RunWork()
    {
        // Work scheduled while this runs waits for the next turn, so a busy producer cannot starve the sockets.
        for (var pending = _work.Count; pending > 0 && _work.TryDequeue(out var item); pending--)
        {
            try
            {
                item.Action(item.State);
            }
            catch (Exception ex)
            {
                _onError(ex);
            }
        }
    }
}
