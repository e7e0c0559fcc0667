//! Extensions ipt keeps as written, without reading their values (it does not model what they
//! match or do), but whose options it knows as iptables 1.8.9 declares them: an option the
//! extension does not have, a value left out, a `!` where none may stand, a repeat, or a
//! mandatory option missing is refused, as iptables refuses it (each checked on a kernel).
//! Each still carries the warning that ipt does not model it. (`-m rateest`, whose options take
//! optional values, and `-j DNPT`/`-j SNPT` stay with the extensions whose words are all kept.)

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, MatchSpec, TargetSpec};
use crate::load::LoadError;
use crate::model::{MatchKind, Proto, TargetKind, Verbatim};

/// The words of the options given, as iptables-save would name them (`--u3` is `--u32`).
fn words(b: &Build<'_, '_>) -> Vec<Box<str>> {
    let mut words = Vec::new();
    for opt in b.opts {
        if opt.invert {
            words.push("!".into());
        }
        words.push(format!("--{}", opt.name).into());
        words.extend(opt.values.iter().map(|v| Box::<str>::from(&*v.text)));
    }
    words
}

/// The match, kept as written, once its options passed `ok`.
fn kept_match(b: &mut Build<'_, '_>, name: &str, ok: bool) -> Option<MatchKind> {
    b.report(LoadError::UnmodelledMatch { span: b.name_span, name: name.to_string() });
    ok.then(|| MatchKind::Verbatim(Box::new(Verbatim { name: name.into(), args: words(b) })))
}

/// At least one of `ids` given (an extension's own final check).
fn one_of(b: &mut Build<'_, '_>, ids: &[u8], needs: &str) -> bool {
    if ids.iter().any(|&id| b.has(id)) {
        return true;
    }
    b.report(LoadError::MissingOption { span: b.span, needs: needs.into() });
    false
}

const U32: u8 = 0;

pub static U32_SPEC: MatchSpec = MatchSpec {
    name: "u32",
    availability: Availability::Both,
    options: &[OptionSpec::value("u32", U32).invertible()],
    build: |b| {
        let ok = b.mandatory(U32, "u32");
        kept_match(b, "u32", ok)
    },
};

const NFACCT_NAME: u8 = 0;

pub static NFACCT_SPEC: MatchSpec = MatchSpec {
    name: "nfacct",
    availability: Availability::Both,
    options: &[OptionSpec::value("nfacct-name", NFACCT_NAME)],
    build: |b| {
        let ok = b.mandatory(NFACCT_NAME, "nfacct-name");
        kept_match(b, "nfacct", ok)
    },
};

const LABEL: u8 = 0;
const LABEL_SET: u8 = 1;

pub static CONNLABEL_SPEC: MatchSpec = MatchSpec {
    name: "connlabel",
    availability: Availability::Both,
    options: &[OptionSpec::value("label", LABEL).invertible(), OptionSpec::flag("set", LABEL_SET)],
    build: |b| {
        let ok = b.mandatory(LABEL, "label");
        kept_match(b, "connlabel", ok)
    },
};

const GENRE: u8 = 0;
const OSF_TTL: u8 = 1;
const OSF_LOG: u8 = 2;

pub static OSF_SPEC: MatchSpec = MatchSpec {
    name: "osf",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("genre", GENRE).invertible(),
        OptionSpec::value("ttl", OSF_TTL),
        OptionSpec::value("log", OSF_LOG),
    ],
    build: |b| {
        let ok = b.mandatory(GENRE, "genre");
        kept_match(b, "osf", ok)
    },
};

const TOTAL_NODES: u8 = 0;
const LOCAL_NODE: u8 = 1;
const LOCAL_NODEMASK: u8 = 2;
const HASH_SEED: u8 = 3;

pub static CLUSTER_SPEC: MatchSpec = MatchSpec {
    name: "cluster",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("cluster-total-nodes", TOTAL_NODES),
        OptionSpec::value("cluster-local-node", LOCAL_NODE).invertible(),
        OptionSpec::value("cluster-local-nodemask", LOCAL_NODEMASK).invertible(),
        OptionSpec::value("cluster-hash-seed", HASH_SEED),
    ],
    build: |b| {
        let node = one_of(b, &[LOCAL_NODE, LOCAL_NODEMASK], "`--cluster-local-node` or `--cluster-local-nodemask`");
        let ok = node
            & b.exclusive(&[LOCAL_NODE, LOCAL_NODEMASK])
            & b.mandatory(TOTAL_NODES, "cluster-total-nodes")
            & b.mandatory(HASH_SEED, "cluster-hash-seed");
        kept_match(b, "cluster", ok)
    },
};

const BYTECODE: u8 = 0;
const OBJECT_PINNED: u8 = 1;

pub static BPF_SPEC: MatchSpec = MatchSpec {
    name: "bpf",
    availability: Availability::Both,
    options: &[OptionSpec::value("bytecode", BYTECODE), OptionSpec::value("object-pinned", OBJECT_PINNED)],
    build: |b| {
        let ok = one_of(b, &[BYTECODE, OBJECT_PINNED], "`--bytecode` or `--object-pinned`");
        kept_match(b, "bpf", ok)
    },
};

const IPCOMPSPI: u8 = 0;
const COMPRES: u8 = 1;

pub static IPCOMP_SPEC: MatchSpec = MatchSpec {
    name: "ipcomp",
    availability: Availability::Both,
    options: &[OptionSpec::value("ipcompspi", IPCOMPSPI).invertible(), OptionSpec::flag("compres", COMPRES)],
    // (its `-p ipcomp` is checked with the other protocol matches': check::placement)
    build: |b| kept_match(b, "ipcomp", true),
};

const IPVS: u8 = 0;
const VPROTO: u8 = 1;
const VADDR: u8 = 2;
const VPORT: u8 = 3;
const VDIR: u8 = 4;
const VMETHOD: u8 = 5;
const VPORTCTL: u8 = 6;

pub static IPVS_SPEC: MatchSpec = MatchSpec {
    name: "ipvs",
    availability: Availability::Both,
    options: &[
        OptionSpec::flag("ipvs", IPVS).invertible(),
        OptionSpec::value("vproto", VPROTO).invertible(),
        OptionSpec::value("vaddr", VADDR).invertible(),
        OptionSpec::value("vport", VPORT).invertible(),
        OptionSpec::value("vdir", VDIR),
        OptionSpec::value("vmethod", VMETHOD).invertible(),
        OptionSpec::value("vportctl", VPORTCTL).invertible(),
    ],
    build: |b| {
        let ok = one_of(b, &[IPVS, VPROTO, VADDR, VPORT, VDIR, VMETHOD, VPORTCTL], "at least one option");
        kept_match(b, "ipvs", ok)
    },
};

pub static EUI64_SPEC: MatchSpec = MatchSpec {
    name: "eui64",
    availability: Availability::Ipv6,
    options: &[],
    build: |b| kept_match(b, "eui64", true),
};

pub static SRH_SPEC: MatchSpec = MatchSpec {
    name: "srh",
    availability: Availability::Ipv6,
    options: &[
        OptionSpec::value("srh-next-hdr", 0).invertible(),
        OptionSpec::value("srh-hdr-len-eq", 1).invertible(),
        OptionSpec::value("srh-hdr-len-gt", 2).invertible(),
        OptionSpec::value("srh-hdr-len-lt", 3).invertible(),
        OptionSpec::value("srh-segs-left-eq", 4).invertible(),
        OptionSpec::value("srh-segs-left-gt", 5).invertible(),
        OptionSpec::value("srh-segs-left-lt", 6).invertible(),
        OptionSpec::value("srh-last-entry-eq", 7).invertible(),
        OptionSpec::value("srh-last-entry-gt", 8).invertible(),
        OptionSpec::value("srh-last-entry-lt", 9).invertible(),
        OptionSpec::value("srh-tag", 10).invertible(),
        OptionSpec::value("srh-psid", 11).invertible(),
        OptionSpec::value("srh-nsid", 12).invertible(),
        OptionSpec::value("srh-lsid", 13).invertible(),
    ],
    build: |b| kept_match(b, "srh", true),
};

const TCP_REMOVE: u8 = 0;
const TCP_CWR: u8 = 1;
const TCP_ECE: u8 = 2;
const IP_ECT: u8 = 3;

pub static ECN_SPEC: TargetSpec = TargetSpec {
    name: "ECN",
    availability: Availability::Ipv4,
    options: &[
        OptionSpec::flag("ecn-tcp-remove", TCP_REMOVE),
        OptionSpec::value("ecn-tcp-cwr", TCP_CWR),
        OptionSpec::value("ecn-tcp-ece", TCP_ECE),
        OptionSpec::value("ecn-ip-ect", IP_ECT),
    ],
    build: |b| {
        b.report(LoadError::UnmodelledTarget { span: b.name_span, name: "ECN".into() });
        let mut ok = one_of(b, &[TCP_REMOVE, TCP_CWR, TCP_ECE, IP_ECT], "an operation");
        // xt_ECN refuses a change to TCP's bits in a rule not for `-p tcp`
        if [TCP_REMOVE, TCP_CWR, TCP_ECE].iter().any(|&id| b.has(id))
            && !b.proto.as_ref().is_some_and(|p| p.value == Proto::TCP && !p.invert)
        {
            b.fail(b.span, "`-j ECN` changes TCP's bits only in a rule for `-p tcp`", "add `-p tcp` to the rule");
            ok = false;
        }
        ok.then(|| TargetKind::Verbatim(Box::new(Verbatim { name: "ECN".into(), args: words(b) })))
    },
};

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, err6, v4, v6};

    #[test]
    fn options_are_read_as_iptables_declares_them() {
        assert_eq!(v4("-m u32 ! --u3 0=1"), "-m u32 ! --u32 0=1");
        assert!(err4("-m u32").contains("`--u32`"));
        assert!(err4("-m u32 --u32").contains("--u32"));
        assert!(err4("-m u32 --u32 0=1 --u32 0=2").contains("--u32"));
        assert!(err4("-m u32 --dst-type LOCAL").contains("--dst-type"));
        assert!(err4("-m u32 stray --u32 0=1").contains("stray"));
        assert!(err4("-m nfacct ! --nfacct-name x").contains("--nfacct-name"));
        assert!(err4("-m connlabel --set").contains("`--label`"));
        assert!(err4("-m connlabel --label 1 ! --set").contains("--set"));
        assert!(err4("-m osf --ttl 1").contains("`--genre`"));
        assert!(err4("-m cluster --cluster-total-nodes 2 --cluster-hash-seed 1").contains("--cluster-local-node"));
        let both = "-m cluster --cluster-total-nodes 2 --cluster-local-node 1 --cluster-local-nodemask 1 --cluster-hash-seed 1";
        assert!(!err4(both).is_empty());
        assert!(err4("-m bpf").contains("--bytecode"));
        assert_eq!(v4("-p ipcomp -m ipcomp ! --ipcompspi 1:2"), "-p ipcomp -m ipcomp ! --ipcompspi 1:2");
        assert!(err4("-m ipvs").contains("at least one option"));
        assert!(err4("-m ipvs ! --vdir ORIGINAL").contains("--vdir"));
        assert_eq!(v6("-m eui64"), "-m eui64");
        assert!(err6("-m eui64 --foo").contains("--foo"));
        assert_eq!(v6("-m srh --srh-next-hdr 17 ! --srh-tag 1"), "-m srh --srh-next-hdr 17 ! --srh-tag 1");
    }
}
