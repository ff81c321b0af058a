namespace Flannel.Reliability.Tests;

/// <summary>A test that runs only with FLANNEL_SOAK=1 (bench/soak.sh): too long for CI.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class SoakFactAttribute : FactAttribute
{
    public SoakFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("FLANNEL_SOAK") != "1")
        {
            Skip = "soak: set FLANNEL_SOAK=1 (bench/soak.sh)";
        }
    }
}
