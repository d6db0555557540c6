using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace VoiceChat.Tests.Infrastructure;

/// <summary>The sample server on real Kestrel at a free loopback port.</summary>
internal static class SampleHost
{
    /// <summary>Starts the sample with <paramref name="settings"/>; returns it and http://127.0.0.1:port.</summary>
    public static (WebApplicationFactory<Program> Factory, Uri BaseUrl) Start(params (string Key, string Value)[] settings)
    {
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            // An explicit address keeps the sample off its default 0.0.0.0:8080, which anything else may hold.
            b.UseSetting("urls", "http://127.0.0.1:0");
            foreach (var (key, value) in settings)
            {
                b.UseSetting(key, value);
            }
        });
        factory.UseKestrel(0);
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (factory, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)));
    }
}
