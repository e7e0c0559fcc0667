//! Where the kernel lets each target and match stand: which tables, which hooks (a user chain
//! counts as every hook it is reached from), which protocol. These are the checks of the
//! kernel's `checkentry` functions and of `x_tables` itself, which `iptables-restore --test`
//! never runs. Extensions are looked up by name, so the rules hold for the ones ipt keeps
//! verbatim too.

use crate::model::{Family, Hook, MatchKind, Proto, TableName, TargetKind};

/// A restriction on where an extension loads.
pub struct Place {
    pub name: &'static str,
    /// The tables it loads in; empty for any.
    pub tables: &'static [TableName],
    /// The hooks it loads in (a bit per [`Hook`]); 0 for any.
    pub hooks: u8,
    /// The protocols the rule must name with `-p` (not negated); empty for any.
    pub protos: &'static [Proto],
    /// What to do instead, for the help line.
    pub help: &'static str,
}

const fn hooks(list: &[Hook]) -> u8 {
    let mut mask = 0;
    let mut i = 0;
    while i < list.len() {
        mask |= 1 << list[i] as u8;
        i += 1;
    }
    mask
}

use Hook::*;
use TableName::*;

const TCP: &[Proto] = &[Proto::TCP];
const TCP_UDP: &[Proto] = &[Proto::TCP, Proto::UDP];

const fn place(
    name: &'static str,
    tables: &'static [TableName],
    hooks: u8,
    protos: &'static [Proto],
    help: &'static str,
) -> Place {
    Place { name, tables, hooks, protos, help }
}

/// Targets, by name.
static TARGETS: &[Place] = &[
    place(
        "DNAT",
        &[Nat],
        hooks(&[Prerouting, Output]),
        &[],
        "DNAT rewrites the destination before routing: put it in nat PREROUTING (incoming) or nat OUTPUT (local)",
    ),
    place(
        "REDIRECT",
        &[Nat],
        hooks(&[Prerouting, Output]),
        &[],
        "REDIRECT rewrites the destination before routing: put it in nat PREROUTING or nat OUTPUT",
    ),
    place(
        "SNAT",
        &[Nat],
        hooks(&[Input, Postrouting]),
        &[],
        "SNAT rewrites the source after routing: put it in nat POSTROUTING (or nat INPUT)",
    ),
    place(
        "MASQUERADE",
        &[Nat],
        hooks(&[Postrouting]),
        &[],
        "MASQUERADE picks the source address of the outgoing interface: put it in nat POSTROUTING",
    ),
    place("NETMAP", &[Nat], 0, &[], "NETMAP is a NAT target: put it in the nat table"),
    place(
        "REJECT",
        &[Filter],
        0,
        &[],
        "REJECT loads only in the filter table; to refuse packets earlier, DROP them in raw or mangle",
    ),
    place(
        "TRACE",
        &[Raw],
        0,
        &[],
        "TRACE marks packets for tracing before conntrack sees them: put it in the raw table",
    ),
    place("CT", &[Raw], 0, &[], "CT sets up the connection before conntrack tracks it: put it in the raw table"),
    place("NOTRACK", &[Raw], 0, &[], "NOTRACK acts before conntrack tracks the packet: put it in the raw table"),
    place(
        "TPROXY",
        &[Mangle],
        hooks(&[Prerouting]),
        TCP_UDP,
        "TPROXY loads in mangle PREROUTING, on `-p tcp` or `-p udp` rules",
    ),
    place("TCPOPTSTRIP", &[Mangle], 0, TCP, "TCPOPTSTRIP rewrites TCP headers in the mangle table: add `-p tcp`"),
    place("CHECKSUM", &[Mangle], 0, &[], "CHECKSUM loads only in the mangle table"),
    place("TOS", &[Mangle], 0, &[], "TOS rewrites headers: put it in the mangle table"),
    place("DSCP", &[Mangle], 0, &[], "DSCP rewrites headers: put it in the mangle table"),
    place("TTL", &[Mangle], 0, &[], "TTL rewrites headers: put it in the mangle table"),
    place("HL", &[Mangle], 0, &[], "HL rewrites headers: put it in the mangle table"),
    place("ECN", &[Mangle], 0, &[], "ECN rewrites headers: put it in the mangle table"),
    place(
        "SNPT",
        &[Mangle],
        hooks(&[Input, Postrouting]),
        &[],
        "SNPT rewrites the source prefix on the way out: mangle POSTROUTING (or INPUT)",
    ),
    place(
        "DNPT",
        &[Mangle],
        hooks(&[Prerouting, Output]),
        &[],
        "DNPT rewrites the destination prefix on the way in: mangle PREROUTING (or OUTPUT)",
    ),
    place("SECMARK", &[Mangle, Security], 0, &[], "SECMARK loads in the mangle or security table"),
    place("CONNSECMARK", &[Mangle, Security], 0, &[], "CONNSECMARK loads in the mangle or security table"),
    place(
        "SYNPROXY",
        &[],
        hooks(&[Input, Forward]),
        TCP,
        "SYNPROXY answers SYNs of `-p tcp` rules in INPUT or FORWARD",
    ),
    place(
        "CLASSIFY",
        &[],
        hooks(&[Forward, Output, Postrouting]),
        &[],
        "CLASSIFY sets the class for the outgoing queue: FORWARD, OUTPUT or POSTROUTING",
    ),
];

const TCPMSS_CLAMP: Place = place(
    "TCPMSS --clamp-mss-to-pmtu",
    &[],
    hooks(&[Forward, Output, Postrouting]),
    TCP,
    "the path MTU is known only after routing: clamp in FORWARD, OUTPUT or POSTROUTING",
);
const TCPMSS_SET: Place = place("TCPMSS", &[], 0, TCP, "TCPMSS rewrites TCP SYN packets: add `-p tcp`");

/// Where a target may stand, if anywhere is not fine.
pub fn target_place(kind: &TargetKind) -> Option<&'static Place> {
    match kind {
        // the common verdicts first, without looking names up
        TargetKind::Continue
        | TargetKind::Accept
        | TargetKind::Drop
        | TargetKind::Return
        | TargetKind::Queue
        | TargetKind::Jump(_)
        | TargetKind::Goto(_)
        | TargetKind::Log(_)
        | TargetKind::Mark(_)
        | TargetKind::Nflog(_) => None,
        TargetKind::Tcpmss(crate::ext::tcpmss::Tcpmss::ClampToPmtu) => Some(&TCPMSS_CLAMP),
        TargetKind::Tcpmss(_) => Some(&TCPMSS_SET),
        kind => {
            let name = kind.name()?;
            TARGETS.iter().find(|p| p.name == name)
        }
    }
}

/// Matches, by name.
static MATCHES: &[Place] = &[
    place("-m tcp", &[], 0, TCP, "add `-p tcp` before `-m tcp`"),
    place("-m udp", &[], 0, &[Proto::UDP], "add `-p udp` before `-m udp`"),
    place("-m udplite", &[], 0, &[Proto::UDPLITE], "add `-p udplite` before `-m udplite`"),
    place("-m sctp", &[], 0, &[Proto::SCTP], "add `-p sctp` before `-m sctp`"),
    place("-m dccp", &[], 0, &[Proto::DCCP], "add `-p dccp` before `-m dccp`"),
    place("-m icmp", &[], 0, &[Proto::ICMP], "add `-p icmp` before `-m icmp`"),
    place("-m icmp6", &[], 0, &[Proto::ICMPV6], "add `-p ipv6-icmp` before `-m icmp6`"),
    place("-m esp", &[], 0, &[Proto(50)], "add `-p esp` before `-m esp`"),
    place("-m ah", &[], 0, &[Proto(51)], "add `-p ah` before `-m ah`"),
    place("-m ipcomp", &[], 0, &[Proto(108)], "add `-p ipcomp` before `-m ipcomp`"),
    place("-m mh", &[], 0, &[Proto(135)], "add `-p mh` before `-m mh`"),
    place("-m tcpmss", &[], 0, TCP, "add `-p tcp` before `-m tcpmss`"),
    place(
        "-m owner",
        &[],
        hooks(&[Output, Postrouting]),
        &[],
        "only locally generated packets have an owner: match it in OUTPUT or POSTROUTING",
    ),
    place(
        "-m mac",
        &[],
        hooks(&[Prerouting, Input, Forward]),
        &[],
        "the source MAC is known only on incoming packets: PREROUTING, INPUT or FORWARD",
    ),
    place(
        "-m eui64",
        &[],
        hooks(&[Prerouting, Input, Forward]),
        &[],
        "the source MAC is known only on incoming packets: PREROUTING, INPUT or FORWARD",
    ),
    place(
        "-m socket",
        &[],
        hooks(&[Prerouting, Input]),
        &[],
        "the socket lookup works on incoming packets: PREROUTING or INPUT",
    ),
    place(
        "-m cgroup",
        &[],
        hooks(&[Input, Output, Postrouting]),
        &[],
        "a packet has a local socket, and so a cgroup, only in INPUT, OUTPUT or POSTROUTING",
    ),
    place(
        "-m rpfilter",
        &[Raw, Mangle],
        hooks(&[Prerouting]),
        &[],
        "the reverse-path check runs before routing: raw or mangle PREROUTING",
    ),
];

const LIMIT_IFACE_IN: Place = place(
    "-m addrtype --limit-iface-in",
    &[],
    hooks(&[Prerouting, Input, Forward]),
    &[],
    "a packet going out has no input interface to look the address up on",
);
const LIMIT_IFACE_OUT: Place = place(
    "-m addrtype --limit-iface-out",
    &[],
    hooks(&[Forward, Output, Postrouting]),
    &[],
    "a packet coming in has no output interface yet",
);

const POLICY_IN: Place = place(
    "-m policy --dir in",
    &[],
    hooks(&[Prerouting, Input, Forward]),
    &[],
    "the input policy is known for incoming packets: PREROUTING, INPUT or FORWARD",
);
const POLICY_OUT: Place = place(
    "-m policy --dir out",
    &[],
    hooks(&[Forward, Output, Postrouting]),
    &[],
    "the output policy is known for outgoing packets: FORWARD, OUTPUT or POSTROUTING",
);
const PHYSDEV_OUT: Place = place(
    "-m physdev --physdev-out",
    &[],
    hooks(&[Prerouting, Input, Forward, Postrouting]),
    &[],
    "the output bridge port is known only for bridged traffic: match it in FORWARD or POSTROUTING, with `--physdev-is-bridged`",
);
const DEVGROUP_SRC: Place = place(
    "-m devgroup --src-group",
    &[],
    hooks(&[Prerouting, Input, Forward]),
    &[],
    "the input device is known for incoming packets: PREROUTING, INPUT or FORWARD",
);
const DEVGROUP_DST: Place = place(
    "-m devgroup --dst-group",
    &[],
    hooks(&[Forward, Output, Postrouting]),
    &[],
    "the output device is known for outgoing packets: FORWARD, OUTPUT or POSTROUTING",
);
const DEVGROUP_BOTH: Place = place(
    "-m devgroup --src-group --dst-group",
    &[],
    hooks(&[Forward]),
    &[],
    "both devices are known only for forwarded packets: FORWARD",
);
const ECN_TCP: Place = place("-m ecn --ecn-tcp-*", &[], 0, TCP, "the ECE and CWR bits are TCP flags: add `-p tcp`");

/// Where a match may stand, if anywhere is not fine.
pub fn match_place(kind: &MatchKind, family: Family) -> Option<&'static Place> {
    use crate::ext::policy::PolicyDir;
    match kind {
        // the IPv6 `-m ah` finds the header itself and needs no `-p ah`
        MatchKind::Ah(_) if family == Family::Ipv6 => None,
        MatchKind::Policy(p) => Some(if p.dir == PolicyDir::In { &POLICY_IN } else { &POLICY_OUT }),
        MatchKind::Physdev(p)
            if (p.physdev_out.is_some() || p.is_out.is_some()) && p.is_bridged.as_ref().is_none_or(|b| b.invert) =>
        {
            Some(&PHYSDEV_OUT)
        }
        MatchKind::Devgroup(d) if d.src.is_some() && d.dst.is_some() => Some(&DEVGROUP_BOTH),
        MatchKind::Devgroup(d) if d.src.is_some() => Some(&DEVGROUP_SRC),
        MatchKind::Devgroup(d) if d.dst.is_some() => Some(&DEVGROUP_DST),
        MatchKind::Ecn(e) if e.ece.is_some() || e.cwr.is_some() => Some(&ECN_TCP),
        MatchKind::Addrtype(a) if a.limit_iface_in => Some(&LIMIT_IFACE_IN),
        MatchKind::Addrtype(a) if a.limit_iface_out => Some(&LIMIT_IFACE_OUT),
        // the common matches without restrictions, without looking names up
        MatchKind::Comment(_)
        | MatchKind::Conntrack(_)
        | MatchKind::State(_)
        | MatchKind::Mark(_)
        | MatchKind::Connmark(_)
        | MatchKind::Limit(_)
        | MatchKind::Multiport(_)
        | MatchKind::Addrtype(_) => None,
        MatchKind::Tcp(_) => Some(&MATCHES[0]),
        MatchKind::Udp(_) => Some(&MATCHES[1]),
        kind => {
            let name = kind.name();
            MATCHES.iter().find(|p| p.name.strip_prefix("-m ") == Some(name))
        }
    }
}

/// Extensions the running kernels no longer have: (name, since when, what to use).
pub static GONE: &[(&str, &str, &str)] = &[
    ("ULOG", "Linux 3.17", "use `-j NFLOG`"),
    ("CLUSTERIP", "Linux 6.3", "use the nftables `jhash` expression or a load balancer"),
];

/// Extensions whose load depends on the host beyond the rules: (name, match or not, what).
pub static HOST_DEPENDENT: &[(&str, bool, &str)] = &[
    ("set", true, "the ipsets it names must exist on the host (`ipset create`)"),
    ("SET", false, "the ipsets it names must exist on the host (`ipset create`)"),
    ("nfacct", true, "its accounting object must exist on the host (`nfacct add`)"),
    ("ipvs", true, "the host's kernel needs IPVS (the ip_vs module)"),
    ("LED", false, "the host's kernel needs the LED target (xt_LED, often not built)"),
    ("SECMARK", false, "its SELinux context must exist in the host's policy"),
    ("CONNSECMARK", false, "the host needs SELinux or another security module"),
];

/// A quick test before the list: every host-dependent extension's name starts with one of these
/// letters.
pub fn maybe_host_dependent(name: &str) -> bool {
    matches!(name.as_bytes().first(), Some(b's' | b'S' | b'n' | b'i' | b'L' | b'C'))
}
