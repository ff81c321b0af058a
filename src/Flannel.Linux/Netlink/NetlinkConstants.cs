namespace Flannel.Linux.Netlink;

/// <summary>Numbers from linux/netlink.h, linux/rtnetlink.h, linux/if_link.h, linux/neighbour.h, linux/if_addr.h.</summary>
internal static class Nl
{
    public const int HeaderLength = 16;

    // nlmsg_type
    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;
    public const ushort NLMSG_OVERRUN = 4;

    // nlmsg_flags
    public const ushort NLM_F_REQUEST = 0x1;
    public const ushort NLM_F_MULTI = 0x2;
    public const ushort NLM_F_ACK = 0x4;
    public const ushort NLM_F_DUMP_INTR = 0x10;
    public const ushort NLM_F_ROOT = 0x100;
    public const ushort NLM_F_MATCH = 0x200;
    public const ushort NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    public const ushort NLM_F_REPLACE = 0x100;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;
    public const ushort NLM_F_APPEND = 0x800;
    public const ushort NLM_F_CAPPED = 0x100;
    public const ushort NLM_F_ACK_TLVS = 0x200;

    // socket options (SOL_NETLINK)
    public const int SOL_NETLINK = 270;
    public const int NETLINK_ADD_MEMBERSHIP = 1;
    public const int NETLINK_CAP_ACK = 10;
    public const int NETLINK_EXT_ACK = 11;
    public const int NETLINK_GET_STRICT_CHK = 12;

    // extended ack attributes
    public const ushort NLMSGERR_ATTR_MSG = 1;
    public const ushort NLMSGERR_ATTR_OFFS = 2;

    // rtnetlink message types
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_DELLINK = 17;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_SETLINK = 19;
    public const ushort RTM_NEWADDR = 20;
    public const ushort RTM_DELADDR = 21;
    public const ushort RTM_GETADDR = 22;
    public const ushort RTM_NEWROUTE = 24;
    public const ushort RTM_DELROUTE = 25;
    public const ushort RTM_GETROUTE = 26;
    public const ushort RTM_NEWNEIGH = 28;
    public const ushort RTM_DELNEIGH = 29;
    public const ushort RTM_GETNEIGH = 30;

    public const uint RTNLGRP_LINK = 1;

    // struct sizes
    public const int IfInfoMsgLength = 16;
    public const int IfAddrMsgLength = 8;
    public const int RtMsgLength = 12;
    public const int NdMsgLength = 12;
    public const int RtGenMsgLength = 1;

    // IFLA_*
    public const ushort IFLA_ADDRESS = 1;
    public const ushort IFLA_IFNAME = 3;
    public const ushort IFLA_MTU = 4;
    public const ushort IFLA_LINK = 5;
    public const ushort IFLA_MASTER = 10;
    public const ushort IFLA_OPERSTATE = 16;
    public const ushort IFLA_LINKINFO = 18;
    public const ushort IFLA_NET_NS_PID = 19;
    public const ushort IFLA_NET_NS_FD = 28;
    public const ushort IFLA_INFO_KIND = 1;
    public const ushort IFLA_INFO_DATA = 2;
    public const ushort VETH_INFO_PEER = 1;

    // IFLA_VXLAN_*
    public const ushort IFLA_VXLAN_ID = 1;
    public const ushort IFLA_VXLAN_GROUP = 2;
    public const ushort IFLA_VXLAN_LINK = 3;
    public const ushort IFLA_VXLAN_LOCAL = 4;
    public const ushort IFLA_VXLAN_TTL = 5;
    public const ushort IFLA_VXLAN_TOS = 6;
    public const ushort IFLA_VXLAN_LEARNING = 7;
    public const ushort IFLA_VXLAN_AGEING = 8;
    public const ushort IFLA_VXLAN_LIMIT = 9;
    public const ushort IFLA_VXLAN_PORT_RANGE = 10;
    public const ushort IFLA_VXLAN_PROXY = 11;
    public const ushort IFLA_VXLAN_RSC = 12;
    public const ushort IFLA_VXLAN_L2MISS = 13;
    public const ushort IFLA_VXLAN_L3MISS = 14;
    public const ushort IFLA_VXLAN_PORT = 15;
    public const ushort IFLA_VXLAN_GROUP6 = 16;
    public const ushort IFLA_VXLAN_LOCAL6 = 17;
    public const ushort IFLA_VXLAN_GBP = 23;

    // IFA_*
    public const ushort IFA_ADDRESS = 1;
    public const ushort IFA_LOCAL = 2;
    public const ushort IFA_LABEL = 3;
    public const ushort IFA_BROADCAST = 4;
    public const ushort IFA_CACHEINFO = 6;
    public const ushort IFA_FLAGS = 8;

    // RTA_*
    public const ushort RTA_DST = 1;
    public const ushort RTA_SRC = 2;
    public const ushort RTA_IIF = 3;
    public const ushort RTA_OIF = 4;
    public const ushort RTA_GATEWAY = 5;
    public const ushort RTA_PRIORITY = 6;
    public const ushort RTA_PREFSRC = 7;
    public const ushort RTA_TABLE = 15;

    // NDA_*
    public const ushort NDA_DST = 1;
    public const ushort NDA_LLADDR = 2;
    public const ushort NDA_MASTER = 9;
    public const ushort NDA_IFINDEX = 8;
    public const ushort NDA_VNI = 7;
    public const ushort NDA_PORT = 6;

    public const byte NTF_SELF = 0x02;
    public const byte NTF_MASTER = 0x04;
    public const ushort NUD_PERMANENT = 0x80;
    public const ushort NUD_NOARP = 0x40;

    public const uint IFF_UP = 0x1;
    public const uint IFF_LOOPBACK = 0x8;

    public const byte AF_UNSPEC = 0;
    public const byte AF_INET = 2;
    public const byte AF_INET6 = 10;
    public const byte AF_BRIDGE = 7;

    public const byte RT_TABLE_MAIN = 254;
    public const byte RT_SCOPE_UNIVERSE = 0;
    public const byte RT_SCOPE_LINK = 253;
    public const byte RT_SCOPE_HOST = 254;
    public const byte RT_SCOPE_NOWHERE = 255;
    public const uint RTNH_F_ONLINK = 4;
    public const uint RTM_F_LOOKUP_TABLE = 0x1000;
}
