//! `-m policy` (libxt_policy): the IPsec policy a packet was (or will be) processed by, element
//! by element.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::save::save_opt_value;
use super::xtopt::parse_hostmask;
use super::{Availability, MatchSpec};
use crate::model::addr::NetNumeric;
use crate::model::{MatchKind, Neg, Net};

/// The most elements a policy has (`XT_POLICY_MAX_ELEM`).
pub const MAX_ELEMS: usize = 4;

/// `--dir`: the policy of decapsulation (`in`) or of encapsulation (`out`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyDir {
    In,
    Out,
}

/// `--mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyMode {
    Transport,
    Tunnel,
}

/// One element of the policy (the options between `--next`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct PolicyElem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reqid: Option<Neg<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spi: Option<Neg<u32>>,
    /// `--proto`: 50 (esp), 51 (ah) or 108 (ipcomp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proto: Option<Neg<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<Neg<PolicyMode>>,
    /// `--tunnel-src addr[/mask]`: the address is kept unmasked, as iptables keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_src: Option<Neg<Net>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_dst: Option<Neg<Net>>,
}

impl PolicyElem {
    fn is_empty(&self) -> bool {
        *self == PolicyElem::default()
    }
}

/// `-m policy`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Policy {
    pub dir: PolicyDir,
    /// `--pol none`: the packet is not subject to IPsec (`--pol ipsec` otherwise).
    pub none: bool,
    /// `--strict`: the elements describe the whole policy, in order.
    pub strict: bool,
    /// Empty with `--pol none` (whose element options iptables drops); one or more otherwise.
    pub elems: Vec<PolicyElem>,
}

const DIR: u8 = 0;
const POL: u8 = 1;
const STRICT: u8 = 2;
const REQID: u8 = 3;
const SPI: u8 = 4;
const PROTO: u8 = 5;
const MODE: u8 = 6;
const TUNNELSRC: u8 = 7;
const TUNNELDST: u8 = 8;
const NEXT: u8 = 9;

pub static SPEC: MatchSpec = MatchSpec {
    name: "policy",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("dir", DIR),
        OptionSpec::value("pol", POL),
        OptionSpec::flag("strict", STRICT),
        OptionSpec::value("reqid", REQID).invertible().multi(),
        OptionSpec::value("spi", SPI).invertible().multi(),
        OptionSpec::value("tunnel-src", TUNNELSRC).invertible().multi(),
        OptionSpec::value("tunnel-dst", TUNNELDST).invertible().multi(),
        OptionSpec::value("proto", PROTO).invertible().multi(),
        OptionSpec::value("mode", MODE).invertible().multi(),
        OptionSpec::flag("next", NEXT).multi(),
    ],
    build,
};

/// The protocols an element may name, with the names iptables-save prints.
const PROTOS: [(&str, u8); 3] = [("esp", 50), ("ah", 51), ("ipcomp", 108)];

fn proto_name(proto: u8) -> String {
    PROTOS.iter().find(|&&(_, n)| n == proto).map_or_else(|| proto.to_string(), |&(name, _)| name.to_string())
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut ok = true;
    let mut dir = None;
    let mut none = false;
    let mut elems = vec![PolicyElem::default()];
    for opt in b.opts {
        let at = elems.len() - 1;
        let e = &mut elems[at];
        // one of each per element
        let taken = match opt.id {
            REQID => e.reqid.is_some(),
            SPI => e.spi.is_some(),
            PROTO => e.proto.is_some(),
            MODE => e.mode.is_some(),
            TUNNELSRC => e.tunnel_src.is_some(),
            TUNNELDST => e.tunnel_dst.is_some(),
            _ => false,
        };
        if taken {
            b.fail(
                opt.span,
                format!("`--{}` given twice in policy element {at}", opt.name),
                "separate policy elements with `--next`",
            );
            ok = false;
            continue;
        }
        match opt.id {
            DIR => match opt.value() {
                "in" => dir = Some(PolicyDir::In),
                "out" => dir = Some(PolicyDir::Out),
                _ => {
                    b.bad_value(opt, "`in` or `out`");
                    ok = false;
                }
            },
            POL => match opt.value() {
                "none" => none = true,
                "ipsec" => none = false,
                _ => {
                    b.bad_value(opt, "`none` or `ipsec`");
                    ok = false;
                }
            },
            REQID | SPI => match b.number(opt, 0, u32::MAX as u64) {
                Some(v) => {
                    let value = Some(b.neg(opt, v as u32));
                    let e = &mut elems[at];
                    if opt.id == REQID { e.reqid = value } else { e.spi = value }
                }
                None => ok = false,
            },
            // `XTTYPE_PROTOCOL`: as written (`/etc/protocols` has `esp` and `IPSEC-ESP`, not `ESP`)
            PROTO => match crate::model::Proto::parse_exact(opt.value()) {
                Some(p) if PROTOS.iter().any(|&(_, n)| n == p) => elems[at].proto = Some(b.neg(opt, p)),
                found => {
                    let what = if found.is_some() { "an IPsec protocol" } else { "a protocol" };
                    b.bad_value(opt, format!("{what}: `esp`, `ah` or `ipcomp` (or 50, 51, 108)"));
                    ok = false;
                }
            },
            MODE => match opt.value() {
                "transport" => elems[at].mode = Some(b.neg(opt, PolicyMode::Transport)),
                "tunnel" => elems[at].mode = Some(b.neg(opt, PolicyMode::Tunnel)),
                _ => {
                    b.bad_value(opt, "`transport` or `tunnel`");
                    ok = false;
                }
            },
            TUNNELSRC | TUNNELDST => match parse_hostmask(b, opt) {
                Some(net) => {
                    let value = Some(b.neg(opt, net));
                    let e = &mut elems[at];
                    if opt.id == TUNNELSRC { e.tunnel_src = value } else { e.tunnel_dst = value }
                }
                None => ok = false,
            },
            NEXT => {
                if elems.len() == MAX_ELEMS {
                    b.fail(
                        opt.span,
                        format!("a policy has at most {MAX_ELEMS} elements"),
                        "remove this `--next` and what follows it",
                    );
                    ok = false;
                } else {
                    elems.push(PolicyElem::default());
                }
            }
            _ => {}
        }
    }
    let strict = b.has(STRICT);
    ok &= b.needs(NEXT, STRICT, "strict");
    let Some(dir) = dir else {
        if ok {
            b.report(crate::load::LoadError::MissingOption { span: b.span, needs: "`--dir in` or `--dir out`".into() });
        }
        return None;
    };
    if !ok {
        return None;
    }
    if none {
        if let Some(opt) = b.get(STRICT) {
            b.fail(opt.span, "`--pol none` and `--strict` cannot go together", "remove `--strict`");
            return None;
        }
        if let Some(opt) = b.get(NEXT) {
            b.fail(opt.span, "`--pol none` takes no policy elements", "remove `--next` and the element options");
            return None;
        }
        // iptables ignores the element options of `--pol none`
        elems.clear();
    }
    for (i, e) in elems.iter().enumerate() {
        if strict && e.is_empty() {
            b.fail(
                b.span,
                format!("policy element {i} is empty, and `--strict` is in effect"),
                "give it at least one of `--reqid`, `--spi`, `--tunnel-src`, `--tunnel-dst`, `--proto`, `--mode`",
            );
            return None;
        }
        let tunnel = e.tunnel_src.as_ref().or(e.tunnel_dst.as_ref());
        // iptables' test: a mode of transport (the default, when `--mode` is not given), or `! tunnel`
        let transport = match &e.mode {
            None => true,
            Some(m) => (m.value == PolicyMode::Transport) != m.invert,
        };
        if let Some(t) = tunnel
            && transport
        {
            b.fail(t.span, "`--tunnel-src` and `--tunnel-dst` go only with `--mode tunnel`", "add `--mode tunnel`");
            return None;
        }
    }
    Some(MatchKind::Policy(Box::new(Policy { dir, none, strict, elems })))
}

impl Policy {
    pub fn save(&self, out: &mut String) {
        out.push_str(match self.dir {
            PolicyDir::In => " --dir in",
            PolicyDir::Out => " --dir out",
        });
        out.push_str(if self.none { " --pol none" } else { " --pol ipsec" });
        if self.strict {
            out.push_str(" --strict");
        }
        for (i, e) in self.elems.iter().enumerate() {
            if i > 0 {
                out.push_str(" --next");
            }
            if let Some(r) = &e.reqid {
                save_opt_value(out, r.invert, "reqid", r.value);
            }
            if let Some(s) = &e.spi {
                save_opt_value(out, s.invert, "spi", format_args!("0x{:x}", s.value));
            }
            if let Some(p) = &e.proto {
                save_opt_value(out, p.invert, "proto", proto_name(p.value));
            }
            if let Some(m) = &e.mode {
                let mode = if m.value == PolicyMode::Tunnel { "tunnel" } else { "transport" };
                save_opt_value(out, m.invert, "mode", mode);
            }
            if let Some(d) = &e.tunnel_dst {
                save_opt_value(out, d.invert, "tunnel-dst", NetNumeric(&d.value));
            }
            if let Some(s) = &e.tunnel_src {
                save_opt_value(out, s.invert, "tunnel-src", NetNumeric(&s.value));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, err6, v4, v6};

    #[test]
    fn saves_flags_and_elements() {
        assert_eq!(v4("-m policy --dir in"), "-m policy --dir in --pol ipsec");
        assert_eq!(v4("-m policy --dir in --pol none --reqid 5"), "-m policy --dir in --pol none");
        assert_eq!(
            v4("-m policy --dir out --pol ipsec --strict --reqid 5 ! --spi 0x10 --proto esp --mode tunnel \
                --tunnel-src 1.2.3.4/24 ! --tunnel-dst 10.0.0.1"),
            "-m policy --dir out --pol ipsec --strict --reqid 5 ! --spi 0x10 --proto esp --mode tunnel \
             ! --tunnel-dst 10.0.0.1 --tunnel-src 1.2.3.4/24"
        );
        assert_eq!(
            v4("-m policy --dir in --pol ipsec --strict --proto 50 --next --proto ah ! --mode transport --next \
                --mode tunnel --tunnel-dst 1.2.3.4/255.255.0.0"),
            "-m policy --dir in --pol ipsec --strict --proto esp --next --proto ah ! --mode transport --next \
             --mode tunnel --tunnel-dst 1.2.3.4/16"
        );
        assert_eq!(
            v4("-m policy --dir in --mode tunnel --tunnel-src 10.1/8"),
            "-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 10.0.0.1/8"
        );
        assert_eq!(
            v4("-m policy --dir in --mode tunnel --tunnel-src 1.2.3.4/255.0.255.0"),
            "-m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1.2.3.4"
        );
        assert_eq!(
            v4("-m policy --dir in --spi 4294967295 --reqid 0 --proto 108"),
            "-m policy --dir in --pol ipsec --reqid 0 --spi 0xffffffff --proto ipcomp"
        );
        assert_eq!(
            v4("-m policy --dir in ! --mode transport --tunnel-src 1.2.3.4/0"),
            "-m policy --dir in --pol ipsec ! --mode transport --tunnel-src 1.2.3.4/0"
        );
        assert_eq!(
            v6(
                "-m policy --dir in --pol ipsec --strict --mode tunnel --tunnel-src 2001:db8::1/64 ! --tunnel-dst 2001:db8::2 --proto ah"
            ),
            "-m policy --dir in --pol ipsec --strict --proto ah --mode tunnel ! --tunnel-dst 2001:db8::2 --tunnel-src 2001:db8::1/64"
        );
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m policy --pol ipsec").contains("`--dir in` or `--dir out`"));
        assert!(err4("-m policy --dir IN").contains("`in` or `out`"));
        assert!(err4("-m policy --dir in --pol IPSEC").contains("`none` or `ipsec`"));
        assert!(err4("-m policy --dir in --mode Tunnel").contains("`transport` or `tunnel`"));
        assert!(err4("-m policy --dir in --proto tcp").contains("an IPsec protocol"));
        assert!(err4("-m policy --dir in --proto ESP").contains("a protocol"));
        assert!(err4("-m policy --dir in --dir out").contains("given twice"));
        assert!(err4("-m policy --dir in --reqid 1 --reqid 2").contains("given twice in policy element 0"));
        assert!(err4("-m policy --dir in --next").contains("`--next` also needs `--strict`"));
        assert!(err4("-m policy --dir in --strict").contains("element 0 is empty"));
        assert!(err4("-m policy --dir in --strict --next --reqid 1").contains("element 0 is empty"));
        assert!(err4("-m policy --dir in --pol none --strict").contains("cannot go together"));
        assert!(err4("-m policy --dir in --tunnel-src 1.2.3.4").contains("only with `--mode tunnel`"));
        assert!(err4("-m policy --dir in ! --mode tunnel --tunnel-dst 1.2.3.4").contains("only with `--mode tunnel`"));
        assert!(
            err4("-m policy --dir in --strict --reqid 1 --next --reqid 2 --next --reqid 3 --next --reqid 4 --next --reqid 5")
                .contains("at most 4 elements")
        );
        assert!(err6("-m policy --dir in --mode tunnel --tunnel-src 2001:db8::1/129").contains("0-128"));
        assert!(err6("-m policy --dir in --mode tunnel --tunnel-src 1.2.3.4").contains("this table is IPv6"));
    }
}
