using System.Net;
using System.Net.Sockets;

namespace VoiceChat.Sockets;

/// <summary>The process's socket loops, their block pool, and the connections spread over them.</summary>
internal sealed class SocketLoopGroup : IDisposable
{
    private readonly SocketLoop[] _loops;
    private int _next = -1;
    private long _connected;

    public SocketLoopGroup(SocketLoopSettings settings, Action<Exception> onError)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.LoopCount, 1);
        Settings = settings;
        _loops = new SocketLoop[settings.LoopCount];
        try
        {
            for (var i = 0; i < _loops.Length; i++)
            {
                _loops[i] = new SocketLoop($"VoiceChat socket loop {i}", onError);
            }
        }
        catch
        {
            // No loop thread outlives a group that failed to start.
            foreach (var loop in _loops)
            {
                loop?.Dispose();
            }

            throw;
        }
    }

    public SocketLoopSettings Settings { get; }

    public BlockMemoryPool Pool { get; } = new();

    /// <summary>Connections <see cref="ConnectAsync"/> has opened so far.</summary>
    internal long ConnectionsOpened => Interlocked.Read(ref _connected);

    /// <summary>The loop for the next connection.</summary>
    public SocketLoop Next() => _loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)_loops.Length)];

    /// <summary>Takes over an accepted socket on the next loop.</summary>
    public LoopConnection Accept(Socket socket) => LoopConnection.Accept(Next(), socket, Pool, Settings);

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> (each address in turn) on the next loop.</summary>
    public async ValueTask<LoopConnection> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        Exception? last = null;
        foreach (var address in addresses)
        {
            try
            {
                var connection = await LoopConnection.ConnectAsync(Next(), new IPEndPoint(address, port), Pool, Settings, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _connected);
                return connection;
            }
            catch (SocketException ex)
            {
                last = ex;
            }
        }

        throw last!;
    }

    public void Dispose()
    {
        foreach (var loop in _loops)
        {
            loop.Dispose();
        }

        Pool.Dispose();
    }
}
