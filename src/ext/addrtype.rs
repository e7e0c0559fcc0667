//! `-m addrtype` (libxt_addrtype, revision 1): the routing type of the source or destination
//! address (`LOCAL`, `BROADCAST`, ...).

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_opt_value;
use super::{Availability, MatchSpec};
use crate::model::{MatchKind, Neg};

/// Route types, in the kernel's order (bit `i` of a mask is `NAMES[i]`).
pub const NAMES: [&str; 12] = [
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
];

/// A set of address types, as a bit mask over [`NAMES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddrTypes(pub u16);

/// For `ipt parse`: the names, as a list.
impl serde::Serialize for AddrTypes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        super::save::serialize_names(self, s)
    }
}

impl AddrTypes {
    pub const LOCAL: u16 = 1 << 2;

    pub fn parse(text: &str) -> Result<AddrTypes, String> {
        let mut mask = 0;
        for name in text.split(',') {
            let found = NAMES
                .iter()
                .position(|n| !name.is_empty() && n.len() >= name.len() && n[..name.len()].eq_ignore_ascii_case(name));
            match found {
                Some(i) => mask |= 1 << i,
                None => return Err(name.to_string()),
            }
        }
        Ok(AddrTypes(mask))
    }
}

impl std::fmt::Display for AddrTypes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> =
            NAMES.iter().enumerate().filter(|&(i, _)| self.0 & (1 << i) != 0).map(|(_, n)| *n).collect();
        f.write_str(&names.join(","))
    }
}

/// `-m addrtype`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Addrtype {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<Neg<AddrTypes>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<Neg<AddrTypes>>,
    /// `--limit-iface-in`: look the address up on the incoming interface only.
    pub limit_iface_in: bool,
    /// `--limit-iface-out`: look the address up on the outgoing interface only.
    pub limit_iface_out: bool,
}

const SRC: u8 = 0;
const DST: u8 = 1;
const IN: u8 = 2;
const OUT: u8 = 3;

pub static SPEC: MatchSpec = MatchSpec {
    name: "addrtype",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("src-type", SRC).invertible(),
        OptionSpec::value("dst-type", DST).invertible(),
        OptionSpec::flag("limit-iface-in", IN),
        OptionSpec::flag("limit-iface-out", OUT),
    ],
    build,
};

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut m = Addrtype::default();
    let mut ok = true;
    for (id, slot) in [(SRC, &mut m.src), (DST, &mut m.dst)] {
        if let Some(opt) = b.get(id) {
            match AddrTypes::parse(opt.value()) {
                Ok(t) => *slot = Some(b.neg(opt, t)),
                Err(bad) => {
                    b.bad_value(opt, format!("address types from {} (`{bad}` is none)", NAMES.join(", ")));
                    ok = false;
                }
            }
        }
    }
    m.limit_iface_in = b.has(IN);
    m.limit_iface_out = b.has(OUT);
    if let (Some(i), Some(o)) = (b.get(IN), b.get(OUT)) {
        b.fail(i.span.to(o.span), "`--limit-iface-in` and `--limit-iface-out` exclude each other", "keep one of them");
        ok = false;
    }
    if ok && m.src.is_none() && m.dst.is_none() {
        b.report(crate::load::LoadError::MissingOption { span: b.span, needs: "`--src-type` or `--dst-type`".into() });
        return None;
    }
    ok.then_some(MatchKind::Addrtype(Box::new(m)))
}

impl Addrtype {
    pub fn save(&self, out: &mut String) {
        if let Some(s) = &self.src {
            save_opt_value(out, s.invert, "src-type", s.value);
        }
        if let Some(d) = &self.dst {
            save_opt_value(out, d.invert, "dst-type", d.value);
        }
        if self.limit_iface_in {
            out.push_str(" --limit-iface-in");
        }
        if self.limit_iface_out {
            out.push_str(" --limit-iface-out");
        }
    }
}
