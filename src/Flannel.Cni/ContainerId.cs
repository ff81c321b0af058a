namespace Flannel.Cni;

/// <summary>The spec's grammar for CNI_CONTAINERID: an alphanumeric, then alphanumerics, <c>_</c>, <c>.</c>, <c>-</c>.</summary>
internal static class ContainerId
{
    public static bool IsValid(string id)
    {
        if (string.IsNullOrEmpty(id) || !char.IsAsciiLetterOrDigit(id[0]))
        {
            return false;
        }

        foreach (char c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    public static void Validate(string id)
    {
        if (string.IsNullOrEmpty(id))
        {
            throw new CniException(CniErrorCode.UnknownContainer, "missing containerID");
        }

        if (!IsValid(id))
        {
            throw new CniException(CniErrorCode.InvalidEnvironmentVariables, "invalid characters in containerID", id);
        }
    }
}
