using Microsoft.AspNetCore.Diagnostics.HealthChecks;

// The smallest real host: the relay with the built-in emulator (no credentials configured), the
// voice endpoint and the health endpoints. Run the native binary with --urls http://127.0.0.1:0.
var builder = WebApplication.CreateSlimBuilder(args);

builder.Services.AddVoiceChat(o => o.AllowAnonymous = true)
    .UseLiveApiEmulator();
builder.Services.AddHealthChecks();

var app = builder.Build();

app.UseWebSockets();
app.MapVoiceChat("/voice");
app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });

app.Run();
