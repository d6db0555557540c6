using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace VoiceChat.Tests.Infrastructure;

/// <summary>The sample server on real Kestrel at a free port.</summary>
internal static class SampleHost
{
    /// <summary>Starts <paramref name="factory"/> on Kestrel at port 0; returns http://127.0.0.1:port (the sample binds every address).</summary>
    public static Uri StartOnKestrel(WebApplicationFactory<Program> factory)
    {
        factory.UseKestrel(0);
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));
    }
}
