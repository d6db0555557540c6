using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VoiceChat.Emulator;
using VoiceChat.Testing;

EmulatorCommandLine command;
try
{
    command = EmulatorCommandLine.Parse(args);
}
catch (FormatException ex)
{
    await Console.Error.WriteLineAsync($"voicechat-emulator: {ex.Message}");
    await Console.Error.WriteLineAsync("Run 'voicechat-emulator --help' for the options.");
    return 2;
}

if (command.ShowHelp)
{
    Console.WriteLine(EmulatorCommandLine.Help);
    return 0;
}

using var loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(command.Verbose ? LogLevel.Debug : LogLevel.Information)
    .AddSimpleConsole(console =>
    {
        console.SingleLine = true;
        console.TimestampFormat = "HH:mm:ss ";
    }));

var options = command.CreateOptions();
options.LoggerFactory = loggerFactory;

using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
{
    context.Cancel = true;
    stop.Cancel();
});
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

await using var emulator = await LiveApiEmulator.StartAsync(options, stop.Token);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Scenario '{command.Scenario}'. Base URL: {emulator.BaseUrl}; Developer API WebSocket: ws://{emulator.BaseUrl.Authority}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=<any>"));
Console.WriteLine("Press Ctrl+C to stop.");

try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

return 0;
