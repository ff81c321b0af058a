namespace Flanneld.Options;

/// <summary>The Go flag type behind a flag: decides bool syntax and the type name shown in usage.</summary>
internal enum FlagKind
{
    Bool,
    String,
    Int,
    Duration,

    /// <summary>A flag.Value of its own (lists, klog settings): usage shows "value".</summary>
    Value,
}
