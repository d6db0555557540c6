using System.Runtime.InteropServices;

namespace VoiceChat.Probe;

/// <summary>The <c>voicechat-probe</c> command (not top-level statements: the tests reference this assembly next to a web app's <c>Program</c>).</summary>
internal static class ProbeProgram
{
    public static async Task<int> Main(string[] args)
    {
        ProbeCommandLine command;
        ProbeOptions options;
        try
        {
            command = ProbeCommandLine.Parse(args);
            if (command.ShowHelp)
            {
                Console.WriteLine(ProbeCommandLine.Help);
                return 0;
            }

            options = command.CreateOptions(Environment.GetEnvironmentVariable(ProbeOptions.TokenVariable));
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync($"voicechat-probe: {ex.Message}");
            await Console.Error.WriteLineAsync("Run 'voicechat-probe --help' for the options.");
            return 2;
        }

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });

        ProbeResult result;
        try
        {
            result = await new VoiceProbe(options).RunAsync(stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("voicechat-probe: interrupted.");
            return 130;
        }

        Console.Write(command.Json ? result.ToJson() + Environment.NewLine : result.ToText());
        return result.ExitCode;
    }
}
