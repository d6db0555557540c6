namespace VoiceChat.AspNetCore;

/// <summary>
/// Settings of the VoiceChat socket loop, the Linux transport that <c>UseVoiceChatSocketLoop</c>
/// puts under Kestrel and under the connections to the model. See docs/configuration.md.
/// </summary>
public sealed class VoiceChatSocketLoopOptions
{
    /// <summary>
    /// Loop threads. Each runs one epoll set; connections are spread over them in turn. Default: one
    /// per processor the process may use. 1 to 256.
    /// </summary>
    public int LoopCount { get; set; } = Environment.ProcessorCount;

    /// <summary>Pending connections the listening socket queues before it refuses more. Default 512; at least 1.</summary>
    public int Backlog { get; set; } = 512;
}
