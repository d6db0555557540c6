using System.Diagnostics;

namespace VoiceChat.Tests.Infrastructure;

/// <summary>
/// A program of this repository (the sample server, the emulator) in a process of its own, built
/// beside the tests, that says on its standard output where it listens.
/// </summary>
internal sealed class DotnetProcess : IAsyncDisposable
{
    private readonly Process _process;

    private DotnetProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    /// <summary>The address it printed (http://127.0.0.1:port).</summary>
    public Uri Url { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts <c>artifacts/bin/{project}/{configuration}/{project}.dll</c> and waits for a line of its
    /// output holding <paramref name="marker"/> followed by an <c>http://</c> address.
    /// </summary>
    public static async Task<DotnetProcess> StartAsync(string project, string marker, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        // artifacts/bin/<this project>/<configuration>/: the program is built to its own folder beside this one.
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var dll = Path.Combine(here.Parent!.Parent!.FullName, project, here.Name, project + ".dll");
        File.Exists(dll).Should().BeTrue($"{project} is built beside the tests ({dll})");

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        try
        {
            using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                var at = line.IndexOf(marker, StringComparison.Ordinal);
                var http = at < 0 ? -1 : line.IndexOf("http://", at, StringComparison.Ordinal);
                if (http >= 0)
                {
                    var end = line.IndexOfAny([';', ' '], http);
                    var url = new Uri(end < 0 ? line[http..] : line[http..end]);

                    // Its later output is drained, so a full pipe never stalls it.
                    _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
                    _ = process.StandardError.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
                    return new DotnetProcess(process, url);
                }
            }

            throw new InvalidOperationException($"{project} ended before it said where it listens: " + await process.StandardError.ReadToEndAsync(timeout.Token));
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    /// <summary>SIGTERM, as a platform stopping an instance sends it; waits for the process to exit.</summary>
    public async Task TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-s", "TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>SIGKILL: the process vanishes without a word.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
