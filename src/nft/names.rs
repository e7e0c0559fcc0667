//! Chain names nft can read. nft 1.0.6 takes a chain name only as a bare identifier (a quoted
//! one is a syntax error in `chain "x" {`), and a bare word that is one of its keywords is the
//! keyword. iptables allows almost any 28 bytes.

use rustc_hash::FxHashSet as HashSet;

/// Lower-case words nft's scanner reads as keywords (src/scanner.l), the ones that can stand
/// where a chain name does. A name with an upper-case letter can never be one.
const KEYWORDS: &[&str] = &[
    "include",
    "define",
    "redefine",
    "undefine",
    "describe",
    "hook",
    "device",
    "devices",
    "table",
    "chain",
    "chains",
    "rule",
    "rules",
    "set",
    "sets",
    "element",
    "map",
    "maps",
    "flowtable",
    "handle",
    "ruleset",
    "socket",
    "tproxy",
    "accept",
    "drop",
    "continue",
    "jump",
    "goto",
    "return",
    "to",
    "inet",
    "netdev",
    "add",
    "replace",
    "update",
    "create",
    "insert",
    "delete",
    "get",
    "list",
    "reset",
    "flush",
    "rename",
    "import",
    "export",
    "monitor",
    "destroy",
    "position",
    "index",
    "comment",
    "constant",
    "interval",
    "dynamic",
    "timeout",
    "elements",
    "expires",
    "policy",
    "size",
    "flow",
    "offload",
    "meter",
    "counter",
    "counters",
    "last",
    "log",
    "queue",
    "limit",
    "quota",
    "hour",
    "day",
    "reject",
    "snat",
    "dnat",
    "masquerade",
    "redirect",
    "random",
    "th",
    "bridge",
    "ether",
    "type",
    "typeof",
    "vlan",
    "arp",
    "ip",
    "ecn",
    "time",
    "icmp",
    "icmpv6",
    "igmp",
    "ip6",
    "priority",
    "ah",
    "esp",
    "comp",
    "flags",
    "udp",
    "udplite",
    "vxlan",
    "vni",
    "geneve",
    "gre",
    "gretap",
    "tcp",
    "dccp",
    "sctp",
    "rt",
    "rt0",
    "rt2",
    "srh",
    "hbh",
    "frag",
    "dst",
    "mh",
    "meta",
    "mark",
    "iif",
    "iifname",
    "iiftype",
    "oif",
    "oifname",
    "oiftype",
    "skuid",
    "skgid",
    "nftrace",
    "rtclassid",
    "ibriport",
    "ibrname",
    "obriport",
    "obrname",
    "pkttype",
    "cpu",
    "iifgroup",
    "oifgroup",
    "cgroup",
    "ct",
    "numgen",
    "jhash",
    "symhash",
    "dup",
    "fwd",
    "fib",
    "osf",
    "synproxy",
    "notrack",
    "secmark",
    "secmarks",
    "ipsec",
    "exthdr",
    "xt",
    "all",
    "none",
    "length",
    "protocol",
    "saddr",
    "daddr",
    "state",
    "status",
    "label",
    "zone",
    "helper",
    "helpers",
    "bytes",
    "packets",
    "over",
    "until",
    "used",
    "level",
    "group",
    "prefix",
    "with",
    "icmpx",
    "id",
    "version",
    "option",
    "options",
    "sport",
    "dport",
    "tunnel",
    "tunnels",
    "inc",
    "mod",
    "offset",
    "seed",
    "dscp",
    "ttl",
    "checksum",
    "nexthdr",
    "hoplimit",
    "flowlabel",
    "window",
    "ct",
    "original",
    "reply",
    "direction",
    "event",
    "expiration",
    "count",
    "probability",
    "in",
    "out",
    "vmap",
    "define",
    "hooks",
    "limits",
    "quotas",
    "meters",
    "flowtables",
    "synproxys",
    "audit",
    "ingress",
    "egress",
    "filter",
    "route",
    "nat",
    "raw",
    "mangle",
    "security",
    "ipv4",
    "ipv6",
    "ip6ext",
    "auto-merge",
    "gc-interval",
];

/// Whether nft reads `name` back as it is.
pub fn is_valid(name: &str) -> bool {
    // keywords are lower case: a name with a capital (most are: KUBE-SVC-..., DOCKER) is none
    is_identifier(name) && (name.bytes().any(|b| b.is_ascii_uppercase()) || !KEYWORDS.contains(&name))
}

/// A name nft reads back as `wanted`, or the closest one that is free.
pub fn chain_name(wanted: &str, taken: &HashSet<String>) -> String {
    if is_valid(wanted) {
        return wanted.to_string();
    }
    let mut base: String =
        wanted.chars().map(|c| if c.is_ascii_alphanumeric() || "_-./:".contains(c) { c } else { '_' }).collect();
    if !base.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '.') || KEYWORDS.contains(&base.as_str())
    {
        base.insert_str(0, "chain_");
    }
    if !taken.contains(&base) {
        return base;
    }
    (2..).map(|n| format!("{base}_{n}")).find(|name| !taken.contains(name)).expect("some number is free")
}

/// nft's `string` token: a letter, `_` or `.` first, then letters, digits and `/-_.:`.
fn is_identifier(name: &str) -> bool {
    // every byte allowed is ASCII: a byte of a longer character is none of them
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'.')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_nft_can_read_are_kept_and_others_renamed_once() {
        let taken: HashSet<String> = ["chain_1foo".to_string()].into_iter().collect();
        assert_eq!(chain_name("KUBE-SVC-ABC", &taken), "KUBE-SVC-ABC");
        assert_eq!(chain_name("ufw-before-input", &taken), "ufw-before-input");
        assert_eq!(chain_name("accept", &taken), "chain_accept");
        assert_eq!(chain_name("1foo", &taken), "chain_1foo_2");
        assert_eq!(chain_name("a b", &taken), "a_b");
        assert_eq!(chain_name("ü-chain", &taken), "_-chain");
    }
}
