using System.Diagnostics;
using System.Reflection;
using VoiceChat.Sessions;

namespace VoiceChat.Tests;

/// <summary>
/// A test that counts bytes allocated. Only optimised code allocates what it will in production (a
/// Debug build makes every async state machine a class, allocated per call), so it is skipped when
/// VoiceChat.Core was built without optimisation; <c>eng/suites/10-allocations.sh</c> runs these
/// tests on a Release build.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AllocationFactAttribute : FactAttribute
{
    private static readonly bool Optimised =
        typeof(VoiceSession).Assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled != true;

    public AllocationFactAttribute()
    {
        if (!Optimised)
        {
            Skip = "Counts allocations, which only optimised code shows as they are: runs on a Release build (eng/suites/10-allocations.sh).";
        }
    }

}
