using Microsoft.Extensions.Options;

namespace VoiceChat.AspNetCore.Sockets;

internal sealed class VoiceChatSocketLoopOptionsValidator : IValidateOptions<VoiceChatSocketLoopOptions>
{
    public ValidateOptionsResult Validate(string? name, VoiceChatSocketLoopOptions options)
    {
        var failures = new List<string>();
        if (options.LoopCount is < 1 or > 256)
        {
            failures.Add($"VoiceChatSocketLoopOptions.LoopCount must be 1 to 256 (was {options.LoopCount}).");
        }

        if (options.Backlog < 1)
        {
            failures.Add($"VoiceChatSocketLoopOptions.Backlog must be at least 1 (was {options.Backlog}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
