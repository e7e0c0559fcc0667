//! `-j CLUSTERIP` (libipt_CLUSTERIP): share one IPv4 address between the nodes of a cluster by
//! answering for a multicast MAC. Removed from Linux 6.3; iptables 1.8.9 still parses it.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::TargetKind;

/// `CLUSTERIP_MAX_NODES`.
pub const MAX_NODES: u64 = 16;

/// `-j CLUSTERIP`: without options it joins a cluster another rule made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Clusterip {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<ClusterNew>,
}

/// `--new` and the cluster's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ClusterNew {
    pub hashmode: Hashmode,
    pub clustermac: [u8; 6],
    pub total_nodes: u16,
    pub local_node: u16,
    pub hash_init: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hashmode {
    Sourceip,
    SourceipSourceport,
    SourceipSourceportDestport,
}

impl Hashmode {
    pub fn name(self) -> &'static str {
        match self {
            Hashmode::Sourceip => "sourceip",
            Hashmode::SourceipSourceport => "sourceip-sourceport",
            Hashmode::SourceipSourceportDestport => "sourceip-sourceport-destport",
        }
    }
}

const NEW: u8 = 0;
const HASHMODE: u8 = 1;
const CLUSTERMAC: u8 = 2;
const TOTAL_NODES: u8 = 3;
const LOCAL_NODE: u8 = 4;
const HASH_INIT: u8 = 5;

pub static SPEC: TargetSpec = TargetSpec {
    name: "CLUSTERIP",
    availability: Availability::Ipv4,
    options: &[
        OptionSpec::flag("new", NEW),
        OptionSpec::value("hashmode", HASHMODE),
        OptionSpec::value("clustermac", CLUSTERMAC),
        OptionSpec::value("total-nodes", TOTAL_NODES),
        OptionSpec::value("local-node", LOCAL_NODE),
        OptionSpec::value("hash-init", HASH_INIT),
    ],
    build,
};

/// `XTTYPE_ETHERMAC`: six parts separated by `:`, each at most two hex digits (an empty part is 0).
fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = text.split(':').collect();
    let mut mac = [0u8; 6];
    if parts.len() != 6 {
        return None;
    }
    for (byte, part) in mac.iter_mut().zip(parts) {
        if part.len() > 2 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *byte = if part.is_empty() { 0 } else { u8::from_str_radix(part, 16).ok()? };
    }
    Some(mac)
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    if b.opts.is_empty() {
        return Some(TargetKind::Clusterip(Clusterip::default()));
    }
    let mut ok = true;
    let mut hashmode = None;
    if let Some(opt) = b.get(HASHMODE) {
        hashmode = [Hashmode::Sourceip, Hashmode::SourceipSourceport, Hashmode::SourceipSourceportDestport]
            .into_iter()
            .find(|h| h.name() == opt.value());
        if hashmode.is_none() {
            b.bad_value(opt, "`sourceip`, `sourceip-sourceport` or `sourceip-sourceport-destport`");
            ok = false;
        }
    }
    let mut mac = None;
    if let Some(opt) = b.get(CLUSTERMAC) {
        mac = parse_mac(opt.value());
        match mac {
            None => {
                b.bad_value(opt, "a MAC address `xx:xx:xx:xx:xx:xx`");
                ok = false;
            }
            Some(m) if m[0] & 1 == 0 => {
                b.bad_value(opt, "a multicast MAC address (the first byte odd)");
                ok = false;
            }
            Some(_) => {}
        }
    }
    let mut number = |id: u8, max: u64| match b.get(id) {
        Some(opt) => {
            let n = b.number(opt, 0, max);
            ok &= n.is_some();
            n
        }
        None => None,
    };
    let total = number(TOTAL_NODES, MAX_NODES);
    let local = number(LOCAL_NODE, MAX_NODES);
    let hash_init = number(HASH_INIT, u32::MAX as u64).unwrap_or(0);
    if ![NEW, HASHMODE, CLUSTERMAC, TOTAL_NODES, LOCAL_NODE].iter().all(|&id| b.has(id)) {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "all of `--new`, `--hashmode`, `--clustermac`, `--total-nodes` and `--local-node` (or no option)"
                .into(),
        });
        return None;
    }
    let new = ClusterNew {
        hashmode: hashmode?,
        clustermac: mac?,
        total_nodes: total? as u16,
        local_node: local? as u16,
        hash_init: hash_init as u32,
    };
    ok.then_some(TargetKind::Clusterip(Clusterip { new: Some(new) }))
}

impl Clusterip {
    pub fn save(&self, out: &mut String) {
        let Some(new) = &self.new else { return };
        let m = new.clustermac;
        out.push_str(&format!(
            " --new --hashmode {} --clustermac {:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X} --total-nodes {} --local-node {} --hash-init {}",
            new.hashmode.name(),
            m[0],
            m[1],
            m[2],
            m[3],
            m[4],
            m[5],
            new.total_nodes,
            new.local_node,
            new.hash_init
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, err6, save4};

    const NEW: &str = "--new --hashmode sourceip --clustermac 01:00:5e:00:00:20 --total-nodes 2 --local-node 1";

    #[test]
    fn saves_every_parameter() {
        assert_eq!(save4("-d 1.2.3.4/32 -j CLUSTERIP"), "-d 1.2.3.4/32 -j CLUSTERIP");
        assert_eq!(
            save4(&format!("-d 1.2.3.4/32 -j CLUSTERIP {NEW}")),
            "-d 1.2.3.4/32 -j CLUSTERIP --new --hashmode sourceip --clustermac 01:00:5E:00:00:20 --total-nodes 2 --local-node 1 --hash-init 0"
        );
        assert_eq!(
            save4(
                "-j CLUSTERIP --new --hashmode sourceip-sourceport --clustermac 1::5e:0:0:ff --total-nodes 16 --local-node 0 --hash-init 7"
            ),
            "-j CLUSTERIP --new --hashmode sourceip-sourceport --clustermac 01:00:5E:00:00:FF --total-nodes 16 --local-node 0 --hash-init 7"
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j CLUSTERIP --new").contains("all of `--new`"));
        assert!(err4("-j CLUSTERIP --hash-init 5").contains("all of `--new`"));
        assert!(err4(&NEW.replace("01:00", "00:00").replace("--new", "-j CLUSTERIP --new")).contains("multicast"));
        assert!(err4(&NEW.replace("sourceip", "foo").replace("--new", "-j CLUSTERIP --new")).contains("`sourceip`"));
        assert!(
            err4(&NEW.replace("--total-nodes 2", "--total-nodes 17").replace("--new", "-j CLUSTERIP --new"))
                .contains("0-16")
        );
        assert!(
            err4(&NEW.replace("01:00:5e", "001:00:5e").replace("--new", "-j CLUSTERIP --new")).contains("MAC address")
        );
        assert!(err6("-j CLUSTERIP").contains("IPv4 extension"));
    }
}
