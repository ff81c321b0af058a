using System.Globalization;
using System.Text;
using Flannel.Core.Net;

namespace Flannel.Core.Config;

/// <summary>
/// subnet.env, in upstream's format:
/// <code>
/// FLANNEL_NETWORK=198.18.0.0/16
/// FLANNEL_SUBNET=198.18.30.1/24
/// FLANNEL_IPV6_NETWORK=2001:db8::/48
/// FLANNEL_IPV6_SUBNET=2001:db8:0:1::1/64
/// FLANNEL_MTU=1450
/// FLANNEL_IPMASQ=true
/// </code>
/// </summary>
public static class SubnetEnvFile
{
    public const string DefaultPath = "/run/flannel/subnet.env";

    public static string Format(SubnetEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var text = new StringBuilder();
        if (env.Networks.Count > 0)
        {
            text.Append("FLANNEL_NETWORK=").AppendJoin(',', env.Networks).Append('\n');
        }

        if (env.Subnet is { } subnet)
        {
            text.Append("FLANNEL_SUBNET=").Append(new Ip4Net(subnet.Canonical.Address + 1, subnet.PrefixLength)).Append('\n');
        }

        if (env.IPv6Networks.Count > 0)
        {
            text.Append("FLANNEL_IPV6_NETWORK=").AppendJoin(',', env.IPv6Networks).Append('\n');
        }

        if (env.IPv6Subnet is { } subnet6)
        {
            text.Append("FLANNEL_IPV6_SUBNET=").Append(new Ip6Net(subnet6.Canonical.Address + 1, subnet6.PrefixLength)).Append('\n');
        }

        if (env.Mtu is { } mtu)
        {
            text.Append("FLANNEL_MTU=").Append(mtu.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        if (env.IpMasq is { } ipMasq)
        {
            text.Append("FLANNEL_IPMASQ=").Append(ipMasq ? "true" : "false").Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// Parses subnet.env leniently, as godotenv does: blank lines, comments, <c>export</c> and quotes are allowed,
    /// unknown keys are ignored. A known key with a bad value throws <see cref="FormatException"/> naming it.
    /// </summary>
    public static SubnetEnv Parse(string content) => Parse(content, subnetsOnly: false);

    private static SubnetEnv Parse(string content, bool subnetsOnly)
    {
        ArgumentNullException.ThrowIfNull(content);
        var env = new SubnetEnv();
        foreach (string rawLine in content.Split('\n'))
        {
            string line = rawLine.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line[7..].TrimStart();
            }

            int eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                continue;
            }

            string key = line[..eq].Trim();
            if (subnetsOnly && key is not ("FLANNEL_SUBNET" or "FLANNEL_IPV6_SUBNET"))
            {
                continue;
            }

            string value = Unquote(line[(eq + 1)..].Trim());
            env = key switch
            {
                "FLANNEL_NETWORK" => env with { Networks = ParseList(key, value, ParseNet4) },
                "FLANNEL_SUBNET" => env with { Subnet = ParseNet4(key, value).Canonical },
                "FLANNEL_IPV6_NETWORK" => env with { IPv6Networks = ParseList(key, value, ParseNet6) },
                "FLANNEL_IPV6_SUBNET" => env with { IPv6Subnet = ParseNet6(key, value).Canonical },
                "FLANNEL_MTU" => env with { Mtu = ParseMtu(key, value) },
                "FLANNEL_IPMASQ" => env with { IpMasq = value == "true" },
                _ => env,
            };
        }

        return env;
    }

    /// <summary>Reads the file; null when it does not exist.</summary>
    public static SubnetEnv? TryRead(string path) => TryRead(path, subnetsOnly: false);

    /// <summary>
    /// Only FLANNEL_SUBNET and FLANNEL_IPV6_SUBNET of a previous file (the rest of the result unset), as upstream's
    /// daemon reads it to ask for the same subnet again: a bad value of another key (an MTU of 0 written by hand) must
    /// not cost the node its subnet, and with it every pod's address. Null when the file does not exist.
    /// </summary>
    public static SubnetEnv? TryReadSubnets(string path) => TryRead(path, subnetsOnly: true);

    private static SubnetEnv? TryRead(string path, bool subnetsOnly)
    {
        string content;
        try
        {
            content = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        return Parse(content, subnetsOnly);
    }

    /// <summary>
    /// Writes the file atomically: a temporary file beside it, fsync, then rename, so a reader (the CNI plugin)
    /// sees the old file or the new one, never half of one. Mode 0644 whatever the umask; the directory is made 0755.
    /// </summary>
    public static void Write(string path, SubnetEnv env)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? "/";
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        string temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            }))
            {
                byte[] bytes = Encoding.UTF8.GetBytes(Format(env));
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            // UnixCreateMode is filtered by the umask; upstream's renameio sets 0644 regardless.
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;

    private static List<T> ParseList<T>(string key, string value, Func<string, string, T> parse)
    {
        var items = new List<T>();
        foreach (string part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            T item = parse(key, part);
            if (!items.Contains(item))
            {
                items.Add(item);
            }
        }

        return items;
    }

    private static Ip4Net ParseNet4(string key, string value) =>
        Ip4Net.TryParse(value, out Ip4Net net) ? net.Canonical : throw new FormatException($"{key}={value} is not an IPv4 CIDR");

    private static Ip6Net ParseNet6(string key, string value) =>
        Ip6Net.TryParse(value, out Ip6Net net) ? net.Canonical : throw new FormatException($"{key}={value} is not an IPv6 CIDR");

    private static int ParseMtu(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int mtu) && mtu > 0
            ? mtu
            : throw new FormatException($"{key}={value} is not a positive integer");
}
