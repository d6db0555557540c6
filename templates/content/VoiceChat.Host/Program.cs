using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

var builder = WebApplication.CreateBuilder(args);

// Container platforms such as Cloud Run say in PORT where to listen: one port, on every interface,
// for the voice WebSocket and the health endpoints alike. Without PORT the usual ASP.NET Core
// settings apply (--urls, ASPNETCORE_URLS, launchSettings.json).
if (Environment.GetEnvironmentVariable("PORT") is { Length: > 0 } port)
{
    builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
}

// The image sets DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1, so socket completions stay on the
// socket threads; Kestrel then keeps its own continuations there too, and a relayed audio frame is
// handled start to end without a thread switch (docs/deployment.md). Nothing of VoiceChat's blocks that
// thread and tools run on the thread pool; endpoints of your own that block a thread want this off.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1")
{
    builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
}

// Cloud Run stops an instance 10 s after SIGTERM: sessions get going_away well before that.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(8));

// Options come from the "VoiceChat" section of appsettings.json and from environment variables
// (VoiceChat__Gemini__ApiKey, ...). Without Google credentials the built-in Gemini Live emulator
// answers instead, so the service runs offline on a developer's machine. Users authenticate with
// Firebase ID tokens (VoiceChat__Authentication__FirebaseProjectId) or any OpenID Connect issuer
// (VoiceChat__Authentication__Authority and __Audience): docs/configuration.md.
builder.Services.AddVoiceChat().UseLiveApiEmulatorWithoutCredentials().AddAuthentication();

// Logs for Cloud Logging: the image selects this formatter (Logging__Console__FormatterName=voicechat-cloud),
// one JSON line per entry with its severity, trace and session; plain text on a developer's machine.
builder.Logging.AddVoiceChatCloudLogging();

// Traces and metrics over OTLP, when OTEL_EXPORTER_OTLP_ENDPOINT says where. The SDK reads the other
// OTEL_* variables itself. VoiceChat's spans and instruments are all named "VoiceChat".
if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
{
    builder.Services.AddOpenTelemetry()
        .WithTracing(tracing => tracing.AddSource("VoiceChat").AddAspNetCoreInstrumentation().AddOtlpExporter())
        .WithMetrics(metrics => metrics.AddMeter("VoiceChat").AddAspNetCoreInstrumentation().AddOtlpExporter());
}

// Session starts per user (else per client address) and per address, through ASP.NET Core rate
// limiting: VoiceChat:MaxSessionStartsPerMinute (10) and :MaxSessionStartsPerMinutePerAddress (60), then 429.
builder.Services.AddRateLimiter(o =>
{
    o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
    o.AddVoiceChatPolicy("voice");
});

// On Cloud Run (K_SERVICE is set) every request comes through Google's front end, which appends the
// client's address to X-Forwarded-For: without it all clients would share one address and one limit.
if (Environment.GetEnvironmentVariable("K_SERVICE") is { Length: > 0 })
{
    builder.Services.Configure<ForwardedHeadersOptions>(o =>
    {
        o.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
        o.KnownIPNetworks.Clear();
        o.KnownProxies.Clear();
    });
}

var app = builder.Build();

app.UseForwardedHeaders();
app.UseRateLimiter();

#if (demoPage)
app.UseDefaultFiles();
app.UseStaticFiles();
#endif

// Apps connect here. It requires an authenticated user (and the service refuses to start without
// authentication configured) unless VoiceChat:AllowAnonymous is true, as appsettings.Development.json sets it.
app.MapVoiceChat("/voice").RequireRateLimiting("voice");

// Browsers cannot set headers on a WebSocket: with authentication configured, map the ticket endpoint
// (POST with the user's login, then connect to /voice?ticket=...):
// app.MapVoiceChatTickets("/voice/ticket");

// Liveness: the process answers (no checks). Readiness: VoiceChat's check, which fails while the
// server drains its sessions on shutdown, so no new session is routed to a stopping instance.
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });

app.Run();
