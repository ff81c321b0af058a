namespace Flannel.Linux.Netlink;

public enum LinkEventKind
{
    /// <summary>RTM_NEWLINK: a link appeared or changed.</summary>
    NewOrChanged,

    /// <summary>RTM_DELLINK: a link was deleted.</summary>
    Deleted,
}

/// <summary>A multicast notification from RTNLGRP_LINK.</summary>
public sealed record LinkEvent(LinkEventKind Kind, Link Link);
