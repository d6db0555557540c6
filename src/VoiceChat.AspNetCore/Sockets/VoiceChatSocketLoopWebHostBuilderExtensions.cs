using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat.AspNetCore;
using VoiceChat.AspNetCore.Sockets;
using VoiceChat.Sockets;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Puts Kestrel and the model connections on the VoiceChat socket loop.</summary>
public static class VoiceChatSocketLoopWebHostBuilderExtensions
{
    /// <summary>
    /// On Linux, serves Kestrel's IP endpoints from VoiceChat's own epoll loops and opens the
    /// connections to the Gemini Live API on the same loops. A socket is read only when epoll has
    /// reported data (no read that finds nothing), and what was read is handled to the end, the
    /// relayed frame sent on, on the loop's thread. This takes less CPU per relayed frame than
    /// Kestrel's socket transport (bench/README.md). Unix sockets and named pipes stay on Kestrel's
    /// transport. Nothing of VoiceChat blocks a loop thread; endpoints of your own that block
    /// (synchronous I/O, long computations) hold up every connection on that loop, so run such work
    /// on the thread pool. On other systems this changes nothing.
    /// </summary>
    /// <param name="builder">The web host builder.</param>
    /// <param name="configure">Changes the loop settings.</param>
    /// <returns>The builder.</returns>
    public static IWebHostBuilder UseVoiceChatSocketLoop(this IWebHostBuilder builder, Action<VoiceChatSocketLoopOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!LinuxSockets.IsSupported)
        {
            return builder;
        }

        return builder.ConfigureServices(services =>
        {
            var options = services.AddOptions<VoiceChatSocketLoopOptions>();
            if (configure is not null)
            {
                options.Configure(configure);
            }

            options.ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VoiceChatSocketLoopOptions>, VoiceChatSocketLoopOptionsValidator>());
            services.TryAddSingleton(provider =>
            {
                var settings = provider.GetRequiredService<IOptions<VoiceChatSocketLoopOptions>>().Value;
                var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger<SocketLoopGroup>();
                return new SocketLoopGroup(
                    new SocketLoopSettings { LoopCount = settings.LoopCount },
                    ex => SocketLoopLog.LoopFault(logger, ex));
            });

            // Kestrel asks the last registered factory first; a second call adds no second transport.
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionListenerFactory, SocketLoopTransportFactory>());
        });
    }
}
