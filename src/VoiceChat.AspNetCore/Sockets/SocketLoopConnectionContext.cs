using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using VoiceChat.Sockets;

namespace VoiceChat.AspNetCore.Sockets;

/// <summary>A <see cref="LoopConnection"/> as Kestrel sees a connection.</summary>
internal sealed class SocketLoopConnectionContext : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature, IMemoryPoolFeature
{
    private static long s_lastId;
    private readonly LoopConnection _connection;
    private readonly System.Buffers.MemoryPool<byte> _pool;
    private IDictionary<object, object?>? _items;

    public SocketLoopConnectionContext(LoopConnection connection, System.Buffers.MemoryPool<byte> pool)
    {
        _connection = connection;
        _pool = pool;
        ConnectionId = "L" + Interlocked.Increment(ref s_lastId).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        Transport = connection;
        LocalEndPoint = connection.LocalEndPoint;
        RemoteEndPoint = connection.RemoteEndPoint;
        Features.Set<IConnectionIdFeature>(this);
        Features.Set<IConnectionTransportFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IMemoryPoolFeature>(this);
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override IDuplexPipe Transport { get; set; }

    public override EndPoint? LocalEndPoint { get; set; }

    public override EndPoint? RemoteEndPoint { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get => _connection.Closed;
        set => throw new NotSupportedException("The connection's close token belongs to the transport.");
    }

    public System.Buffers.MemoryPool<byte> MemoryPool => _pool;

    public override void Abort(ConnectionAbortedException abortReason) => _connection.Abort(abortReason);

    public override async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
