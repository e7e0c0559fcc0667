//! `-j HMARK` (libxt_HMARK): set the packet's mark to a hash of chosen header fields, modulo a
//! number, plus an offset (to spread flows over routes or queues).

use serde::Serialize;

use super::build::Build;
use super::host::parse_prefix;
use super::opts::{Opt, OptionSpec};
use super::{Availability, TargetSpec};
use crate::model::{Family, TargetKind, num};

/// `-j HMARK`. A field is hashed when its mask is given, by `--hmark-tuple` (all ones) or by its
/// own option.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Hmark {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_prefix: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_prefix: Option<u8>,
    /// The port masks as the kernel holds them: source port in the high 16 bits, destination
    /// port in the low 16; for ESP and AH the whole word masks the SPI. The flags below say
    /// which were given (and are printed).
    pub port_mask: u32,
    /// Bits OR-ed into the ports (or SPI) after masking, laid out like `port_mask`.
    pub port_set: u32,
    pub sport_mask_given: bool,
    pub dport_mask_given: bool,
    pub spi_mask_given: bool,
    pub sport_given: bool,
    pub dport_given: bool,
    pub spi_given: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proto_mask: Option<u16>,
    /// The hash's random seed (`--hmark-rnd`, mandatory).
    pub rnd: u32,
    /// `--hmark-mod`, mandatory, 1 or more.
    pub modulus: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    /// `--hmark-tuple ct`: hash the conntrack tuple rather than the packet.
    pub ct: bool,
}

const TUPLE: u8 = 0;
const SRC_PREFIX: u8 = 1;
const DST_PREFIX: u8 = 2;
const SPORT_MASK: u8 = 3;
const DPORT_MASK: u8 = 4;
const SPI_MASK: u8 = 5;
const SPORT: u8 = 6;
const DPORT: u8 = 7;
const SPI: u8 = 8;
const PROTO_MASK: u8 = 9;
const RND: u8 = 10;
const MOD: u8 = 11;
const OFFSET: u8 = 12;
/// `ct` in `--hmark-tuple` (no option of its own).
const CT: u8 = 13;

pub static SPEC: TargetSpec = TargetSpec {
    name: "HMARK",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("hmark-tuple", TUPLE),
        OptionSpec::value("hmark-src-prefix", SRC_PREFIX),
        OptionSpec::value("hmark-dst-prefix", DST_PREFIX),
        OptionSpec::value("hmark-sport-mask", SPORT_MASK),
        OptionSpec::value("hmark-dport-mask", DPORT_MASK),
        OptionSpec::value("hmark-spi-mask", SPI_MASK),
        OptionSpec::value("hmark-sport", SPORT),
        OptionSpec::value("hmark-dport", DPORT),
        OptionSpec::value("hmark-spi", SPI),
        OptionSpec::value("hmark-proto-mask", PROTO_MASK),
        OptionSpec::value("hmark-rnd", RND),
        OptionSpec::value("hmark-mod", MOD),
        OptionSpec::value("hmark-offset", OFFSET),
    ],
    build,
};

/// The `--hmark-tuple` names in the order iptables tries them: a name is taken when the word is
/// a prefix of it, in any case (`s` is `src`, `sp` is `sport`).
const TUPLE_NAMES: &[(&str, u8)] = &[
    ("ct", CT),
    ("src", SRC_PREFIX),
    ("dst", DST_PREFIX),
    ("sport", SPORT_MASK),
    ("dport", DPORT_MASK),
    ("proto", PROTO_MASK),
    ("spi", SPI_MASK),
];

fn tuple_field(word: &str) -> Option<u8> {
    TUPLE_NAMES
        .iter()
        .find(|(name, _)| !word.is_empty() && word.len() <= name.len() && name[..word.len()].eq_ignore_ascii_case(word))
        .map(|&(_, id)| id)
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let full = match b.family {
        Family::Ipv4 => 32,
        Family::Ipv6 => 128,
    };
    let mut h = Hmark::default();
    let mut ok = true;
    // the fields set so far, by option id: a tuple word sets its field's option, which cannot
    // be given after it
    let mut given: Vec<u8> = Vec::new();
    for opt in b.opts {
        if opt.id != TUPLE && given.contains(&opt.id) {
            b.fail(
                opt.span,
                format!("`--{}` after `--hmark-tuple` names the same field", opt.name),
                "give the field either in `--hmark-tuple` or with its own option, before the tuple",
            );
            ok = false;
            continue;
        }
        match opt.id {
            TUPLE => {
                let words: Vec<&str> = opt.value().split(',').collect();
                for word in words {
                    let Some(id) = tuple_field(word) else {
                        b.bad_value(
                            opt,
                            "a list of `src`, `dst`, `sport`, `dport`, `spi`, `proto`, `ct`, such as `src,dst`",
                        );
                        ok = false;
                        break;
                    };
                    given.push(id);
                    set_field(&mut h, id, full, u32::MAX);
                }
            }
            SRC_PREFIX | DST_PREFIX => match parse_prefix(opt.value(), b.family) {
                Some(len) => {
                    given.push(opt.id);
                    set_field(&mut h, opt.id, len, 0);
                }
                None => {
                    b.bad_value(opt, format!("a prefix length 0-{full} or a network mask"));
                    ok = false;
                }
            },
            id => {
                let max = if matches!(id, SPORT_MASK | DPORT_MASK | SPORT | DPORT | PROTO_MASK) {
                    u16::MAX as u64
                } else {
                    u32::MAX as u64
                };
                let min = if id == MOD { 1 } else { 0 };
                match number(b, opt, min, max) {
                    Some(v) => {
                        given.push(id);
                        set_field(&mut h, id, 0, v);
                    }
                    None => ok = false,
                }
            }
        }
    }
    for (id, name) in [(MOD, "hmark-mod"), (RND, "hmark-rnd")] {
        // an option given with a bad value has its own report
        if !given.contains(&id) && b.get(id).is_none() {
            b.report(crate::load::LoadError::MissingOption { span: b.span, needs: format!("`--{name}`") });
            ok = false;
        }
    }
    if h.spi_mask_given && (h.sport_mask_given || h.dport_mask_given) {
        b.fail(
            b.span,
            "`--hmark-spi-mask` cannot be used together with `--hmark-sport-mask` or `--hmark-dport-mask`",
            "the SPI and the ports share one field: hash either",
        );
        ok = false;
    }
    let fields = [SRC_PREFIX, DST_PREFIX, SPORT_MASK, DPORT_MASK, SPI_MASK, SPORT, DPORT, SPI, PROTO_MASK];
    if ok && !h.ct && !fields.iter().any(|f| given.contains(f)) {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "`--hmark-tuple` or a field option (`--hmark-src-prefix`, ...)".into(),
        });
        ok = false;
    }
    ok.then(|| TargetKind::Hmark(Box::new(h)))
}

fn number(b: &mut Build<'_, '_>, opt: &Opt<'_>, min: u64, max: u64) -> Option<u32> {
    match num::uint(opt.value(), min, max) {
        Some(v) => Some(v as u32),
        None => {
            b.bad_value(opt, format!("a number {min}-{max}"));
            None
        }
    }
}

/// Sets a field as its option (or tuple word, with all ones) does.
fn set_field(h: &mut Hmark, id: u8, prefix: u8, value: u32) {
    let high = |word: u32, v: u32| (word & 0xffff) | (v & 0xffff) << 16;
    let low = |word: u32, v: u32| (word & 0xffff_0000) | (v & 0xffff);
    match id {
        CT => h.ct = true,
        SRC_PREFIX => h.src_prefix = Some(prefix),
        DST_PREFIX => h.dst_prefix = Some(prefix),
        SPORT_MASK => (h.port_mask, h.sport_mask_given) = (high(h.port_mask, value), true),
        DPORT_MASK => (h.port_mask, h.dport_mask_given) = (low(h.port_mask, value), true),
        SPI_MASK => (h.port_mask, h.spi_mask_given) = (value, true),
        SPORT => (h.port_set, h.sport_given) = (high(h.port_set, value), true),
        DPORT => (h.port_set, h.dport_given) = (low(h.port_set, value), true),
        SPI => (h.port_set, h.spi_given) = (value, true),
        PROTO_MASK => h.proto_mask = Some(value as u16),
        RND => h.rnd = value,
        MOD => h.modulus = value,
        _ => h.offset = Some(value),
    }
}

impl Hmark {
    pub fn save(&self, out: &mut String) {
        if let Some(p) = self.src_prefix {
            out.push_str(&format!(" --hmark-src-prefix {p}"));
        }
        if let Some(p) = self.dst_prefix {
            out.push_str(&format!(" --hmark-dst-prefix {p}"));
        }
        let (mask, set) = (self.port_mask, self.port_set);
        for (given, name, text) in [
            (self.sport_mask_given, "sport-mask", format!("0x{:04x}", mask >> 16)),
            (self.dport_mask_given, "dport-mask", format!("0x{:04x}", mask & 0xffff)),
            (self.spi_mask_given, "spi-mask", format!("0x{mask:08x}")),
            (self.sport_given, "sport", format!("0x{:04x}", set >> 16)),
            (self.dport_given, "dport", format!("0x{:04x}", set & 0xffff)),
            (self.spi_given, "spi", format!("0x{set:08x}")),
        ] {
            if given {
                out.push_str(&format!(" --hmark-{name} {text}"));
            }
        }
        if let Some(p) = self.proto_mask {
            out.push_str(&format!(" --hmark-proto-mask 0x{p:02x}"));
        }
        out.push_str(&format!(" --hmark-rnd 0x{:08x} --hmark-mod {}", self.rnd, self.modulus));
        if let Some(o) = self.offset {
            out.push_str(&format!(" --hmark-offset {o}"));
        }
        if self.ct {
            out.push_str(" --hmark-tuple ct");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, err6, save4, save6, target4};

    fn saved(options: &str) -> String {
        save4(&format!("-j HMARK {options}")).trim_start_matches("-j HMARK ").to_string()
    }

    #[test]
    fn a_tuple_sets_full_masks() {
        assert_eq!(
            saved("--hmark-tuple src,dst --hmark-mod 4 --hmark-rnd 1"),
            "--hmark-src-prefix 32 --hmark-dst-prefix 32 --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert_eq!(
            saved("--hmark-tuple S,D,SP,DP,PR --hmark-mod 4 --hmark-rnd 1"),
            "--hmark-src-prefix 32 --hmark-dst-prefix 32 --hmark-sport-mask 0xffff --hmark-dport-mask 0xffff \
             --hmark-proto-mask 0xffff --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert_eq!(
            saved("--hmark-tuple c --hmark-mod 4 --hmark-rnd 1"),
            "--hmark-rnd 0x00000001 --hmark-mod 4 --hmark-tuple ct"
        );
        assert_eq!(
            saved("--hmark-tuple spi --hmark-mod 4 --hmark-rnd 1"),
            "--hmark-spi-mask 0xffffffff --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert_eq!(
            save6("-j HMARK --hmark-tuple src,dst,proto --hmark-mod 4 --hmark-rnd 1"),
            "-j HMARK --hmark-src-prefix 128 --hmark-dst-prefix 128 --hmark-proto-mask 0xffff --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert_eq!(
            target4("-j HMARK --hmark-tuple src,src --hmark-mod 4 --hmark-rnd 1"),
            target4("-j HMARK --hmark-src-prefix 32 --hmark-mod 4 --hmark-rnd 1")
        );
    }

    #[test]
    fn a_tuple_overrides_earlier_options() {
        assert_eq!(
            saved("--hmark-src-prefix 16 --hmark-tuple src --hmark-mod 4 --hmark-rnd 1"),
            "--hmark-src-prefix 32 --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert!(
            err6("-j HMARK --hmark-tuple src,dst --hmark-mod 4 --hmark-src-prefix 64 --hmark-rnd 1")
                .contains("`--hmark-src-prefix` after `--hmark-tuple`")
        );
    }

    #[test]
    fn prefixes_and_masks() {
        assert_eq!(
            saved("--hmark-src-prefix 255.255.0.0 --hmark-mod 4 --hmark-rnd 1"),
            "--hmark-src-prefix 16 --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert_eq!(
            saved("--hmark-src-prefix 255.0.255.0 --hmark-mod 4 --hmark-rnd 1"),
            "--hmark-src-prefix 32 --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert_eq!(
            saved("--hmark-dst-prefix 0 --hmark-mod 4 --hmark-rnd 1"),
            "--hmark-dst-prefix 0 --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert_eq!(
            save6("-j HMARK --hmark-src-prefix 64 --hmark-dst-prefix ffff:ffff:: --hmark-mod 4 --hmark-rnd 1"),
            "-j HMARK --hmark-src-prefix 64 --hmark-dst-prefix 32 --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert_eq!(
            saved(
                "--hmark-src-prefix 1 --hmark-dst-prefix 2 --hmark-sport-mask 0x0003 --hmark-dport-mask 0x0004 \
                 --hmark-proto-mask 0x05 --hmark-rnd 0x00000004 --hmark-mod 42 --hmark-offset 1 --hmark-tuple ct"
            ),
            "--hmark-src-prefix 1 --hmark-dst-prefix 2 --hmark-sport-mask 0x0003 --hmark-dport-mask 0x0004 \
             --hmark-proto-mask 0x05 --hmark-rnd 0x00000004 --hmark-mod 42 --hmark-offset 1 --hmark-tuple ct"
        );
        assert_eq!(
            saved("--hmark-proto-mask 0x1ff --hmark-mod 4 --hmark-rnd 1 --hmark-offset 0"),
            "--hmark-proto-mask 0x1ff --hmark-rnd 0x00000001 --hmark-mod 4 --hmark-offset 0"
        );
    }

    #[test]
    fn spi_and_ports_share_a_field() {
        // iptables accepts these (the kernel refuses them); the later option overwrites bits
        assert_eq!(
            saved("--hmark-sport 1 --hmark-spi 0x20003 --hmark-mod 4 --hmark-rnd 1"),
            "--hmark-sport 0x0002 --hmark-spi 0x00020003 --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert_eq!(
            saved("--hmark-spi 0x20003 --hmark-dport 5 --hmark-mod 4 --hmark-rnd 1"),
            "--hmark-dport 0x0005 --hmark-spi 0x00020005 --hmark-rnd 0x00000001 --hmark-mod 4"
        );
        assert!(err4("-j HMARK --hmark-tuple sport,spi --hmark-mod 4 --hmark-rnd 1").contains("share one field"));
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j HMARK").contains("`--hmark-mod`"));
        assert!(err4("-j HMARK --hmark-tuple src --hmark-mod 2").contains("`--hmark-rnd`"));
        assert!(err4("-j HMARK --hmark-rnd 1 --hmark-mod 4").contains("`--hmark-tuple` or a field option"));
        assert!(err4("-j HMARK --hmark-tuple src,dst --hmark-mod 0 --hmark-rnd 1").contains("1-4294967295"));
        assert!(err4("-j HMARK --hmark-tuple foo --hmark-mod 4 --hmark-rnd 1").contains("a list of"));
        assert!(err4("-j HMARK --hmark-tuple srcx --hmark-mod 4 --hmark-rnd 1").contains("a list of"));
        assert!(err4("-j HMARK --hmark-tuple src, --hmark-mod 4 --hmark-rnd 1").contains("a list of"));
        assert!(err4("-j HMARK --hmark-tuple ,src --hmark-mod 4 --hmark-rnd 1").contains("a list of"));
        assert!(
            err4("-j HMARK --hmark-tuple src --hmark-tuple dst --hmark-mod 4 --hmark-rnd 1").contains("given twice")
        );
        assert!(err6("-j HMARK --hmark-mod 4 --hmark-src-prefix 129 --hmark-rnd 1").contains("0-128"));
        assert!(err4("-j HMARK --hmark-sport-mask 0x10000 --hmark-mod 4 --hmark-rnd 1").contains("0-65535"));
    }
}
