using System.Text;

namespace Flannel.Linux.Netlink;

/// <summary>Interface names as the kernel accepts them (dev_valid_name): 1-15 bytes, no '/', ':' or whitespace, not "." or "..".</summary>
public static class LinkName
{
    public const int MaxLength = 15;

    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name)
        && Encoding.UTF8.GetByteCount(name) <= MaxLength
        && name is not ("." or "..")
        && !name.Any(c => c is '/' or ':' || char.IsWhiteSpace(c));

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="field"/> and the value.</summary>
    public static string Validate(string? name, string field) =>
        IsValid(name) ? name! : throw new ArgumentException(
            $"{field} '{name}' is not a valid interface name (1-{MaxLength} bytes, no '/', ':' or whitespace).", field);
}
