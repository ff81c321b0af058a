using System.Globalization;

namespace Flanneld.TrafficRules.Iptables;

/// <summary>The version an iptables binary reports (<c>iptables v1.8.9 (nf_tables)</c>) and what it supports.</summary>
public readonly record struct IptablesVersion(int Major, int Minor, int Patch)
{
    /// <summary>True for the nf_tables backend (iptables-nft), false for legacy x_tables.</summary>
    public bool NfTables { get; init; }

    /// <summary><c>--random-fully</c> and <c>iptables-restore --wait</c> both arrived in 1.6.2.</summary>
    public bool SupportsRandomFully => this >= new IptablesVersion(1, 6, 2);

    public bool SupportsRestoreWait => SupportsRandomFully;

    public static bool operator <(IptablesVersion left, IptablesVersion right) => Compare(left, right) < 0;

    public static bool operator >(IptablesVersion left, IptablesVersion right) => Compare(left, right) > 0;

    public static bool operator <=(IptablesVersion left, IptablesVersion right) => Compare(left, right) <= 0;

    public static bool operator >=(IptablesVersion left, IptablesVersion right) => Compare(left, right) >= 0;

    /// <summary>Finds the first <c>vX.Y.Z</c> in the output of <c>iptables --version</c>.</summary>
    public static bool TryParse(string versionOutput, out IptablesVersion version)
    {
        version = default;
        for (int i = versionOutput.IndexOf('v', StringComparison.Ordinal); i >= 0; i = versionOutput.IndexOf('v', i + 1))
        {
            string[] parts = versionOutput[(i + 1)..].Split([' ', '\n', '('], 2)[0].Split('.');
            if (parts.Length == 3
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int minor)
                && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int patch))
            {
                version = new IptablesVersion(major, minor, patch) { NfTables = versionOutput.Contains("(nf_tables)", StringComparison.Ordinal) };
                return true;
            }
        }

        return false;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"v{Major}.{Minor}.{Patch}");

    private static int Compare(IptablesVersion left, IptablesVersion right) =>
        (left.Major, left.Minor, left.Patch).CompareTo((right.Major, right.Minor, right.Patch));
}
