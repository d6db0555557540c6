using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

var builder = WebApplication.CreateBuilder(args);

// Cloud Run (and most container platforms) give one port in $PORT and expect 0.0.0.0 there.
// An explicit --urls / ASPNETCORE_URLS still wins, for tests and local runs.
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    var port = Environment.GetEnvironmentVariable("PORT") is { Length: > 0 } value ? value : "8080";
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

// Cloud Run kills the process 10 s after SIGTERM: sessions get going_away well before that.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(8));

// Without Google credentials (an API key, or a project for Vertex AI) the built-in emulator answers.
// Users authenticate with Firebase ID tokens (VoiceChat:Authentication:FirebaseProjectId) or any OpenID
// Connect issuer (Authority and Audience); browsers trade their login for a ticket at /voice/ticket.
builder.Services.AddVoiceChat().UseLiveApiEmulatorWithoutCredentials().AddAuthentication()
    .AddConversationHistory(); // Conversations/: each session's transcripts, tool calls and usage in SQLite, shown at /conversations

// Logs for Cloud Logging: the image selects this formatter (Logging__Console__FormatterName=voicechat-cloud),
// one JSON line per entry with its severity, trace and session; plain text on a developer's machine.
builder.Logging.AddVoiceChatCloudLogging();

// Traces and metrics over OTLP, when OTEL_EXPORTER_OTLP_ENDPOINT says where (a collector, or Cloud Trace
// and Cloud Monitoring through one: docs/deployment.md). The SDK reads the other OTEL_* variables itself.
if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
{
    builder.Services.AddOpenTelemetry()
        .WithTracing(tracing => tracing.AddSource("VoiceChat").AddAspNetCoreInstrumentation().AddOtlpExporter())
        .WithMetrics(metrics => metrics.AddMeter("VoiceChat").AddAspNetCoreInstrumentation().AddOtlpExporter());
}

// The sample runs with one command and offline: anonymous clients are welcome in Development and while
// the model is on this machine (the emulator). With Google credentials in Production it refuses to start
// until authentication is configured, or VoiceChat:AllowAnonymous is set to true on purpose.
var anonymousInDevelopment = builder.Environment.IsDevelopment();
builder.Services.PostConfigure<VoiceChat.VoiceChatOptions>(o => o.AllowAnonymous |= anonymousInDevelopment || o.Gemini.BaseUrl?.IsLoopback == true);

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

// The original app connects to the service's bare URL: a WebSocket upgrade at "/" reaches the
// voice endpoint, while a plain GET "/" still gets the demo page.
app.Use((context, next) =>
{
    if (context.Request.Path == "/" && IsWebSocketUpgrade(context.Request))
    {
        context.Request.Path = "/voice";
    }

    return next(context);
});
app.UseForwardedHeaders();
app.UseRouting();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter(); // after authentication: session starts are limited per signed-in user, else per address
app.UseDefaultFiles();
app.UseStaticFiles();

app.MapVoiceChat("/voice").RequireRateLimiting("voice");
if (!string.IsNullOrEmpty(app.Configuration["VoiceChat:Authentication:FirebaseProjectId"] ?? app.Configuration["VoiceChat:Authentication:Authority"]))
{
    app.MapVoiceChatTickets("/voice/ticket");
}
app.MapConversationHistory("/conversations");
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
app.MapHealthChecks("/health/", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });

app.Run();

static bool IsWebSocketUpgrade(HttpRequest request) =>
    request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase)
    || (HttpMethods.IsConnect(request.Method) && request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpExtendedConnectFeature>()?.Protocol == "websocket");
