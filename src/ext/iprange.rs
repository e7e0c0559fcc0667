//! `-m iprange` (libxt_iprange, revision 1): the source or destination address lies in a range
//! `from-to`.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use super::build::Build;
use super::opts::{Opt, OptionSpec};
use super::{Availability, MatchSpec};
use crate::model::addr::{Ipv6Text, parse_v4};
use crate::model::{Family, MatchKind, Neg};

/// An inclusive address range; one address is a range of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpRange {
    pub min: IpAddr,
    pub max: IpAddr,
}

impl IpRange {
    /// A range with `min` above `max` matches nothing (iptables only warns about it).
    pub fn is_reversed(&self) -> bool {
        self.min > self.max
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.min <= addr && addr <= self.max
    }
}

impl fmt::Display for IpRange {
    /// `from-to`, both always printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (IpAddr::V6(a), IpAddr::V6(b)) => write!(f, "{}-{}", Ipv6Text(a), Ipv6Text(b)),
            (a, b) => write!(f, "{a}-{b}"),
        }
    }
}

impl Serialize for IpRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `-m iprange`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Iprange {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<Neg<IpRange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst: Option<Neg<IpRange>>,
}

const SRC: u8 = 0;
const DST: u8 = 1;

pub static SPEC: MatchSpec = MatchSpec {
    name: "iprange",
    availability: Availability::Both,
    options: &[OptionSpec::value("src-range", SRC).invertible(), OptionSpec::value("dst-range", DST).invertible()],
    build,
};

/// One address as `xtables_numeric_to_ipaddr` (iptables' own dotted reader, which looks at 19
/// characters at most) or `inet_pton` reads it.
fn parse_addr(text: &str, family: Family) -> Option<IpAddr> {
    match family {
        Family::Ipv4 => {
            let mut cut = text.len().min(19);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            parse_v4(&text[..cut]).map(IpAddr::V4)
        }
        Family::Ipv6 => text.parse().ok().map(IpAddr::V6),
    }
}

fn parse_range(b: &mut Build<'_, '_>, opt: &Opt<'_>) -> Option<IpRange> {
    let text = opt.value();
    let (from, to) = text.split_once('-').unwrap_or((text, text));
    let family = b.family;
    match (parse_addr(from, family), parse_addr(to, family)) {
        (Some(min), Some(max)) => Some(IpRange { min, max }),
        _ => {
            let bad = if parse_addr(from, family).is_none() { from } else { to };
            b.bad_value(
                opt,
                format!("an {family} address or a range `from-to` of them (`{bad}` is no {family} address)"),
            );
            None
        }
    }
}

fn build(b: &mut Build<'_, '_>) -> Option<MatchKind> {
    let mut m = Iprange::default();
    let mut ok = true;
    for (id, slot) in [(SRC, &mut m.src), (DST, &mut m.dst)] {
        if let Some(opt) = b.get(id) {
            match parse_range(b, opt) {
                Some(range) => *slot = Some(b.neg(opt, range)),
                None => ok = false,
            }
        }
    }
    if ok && m.src.is_none() && m.dst.is_none() {
        b.report(crate::load::LoadError::MissingOption {
            span: b.span,
            needs: "`--src-range` or `--dst-range`".into(),
        });
        return None;
    }
    ok.then(|| MatchKind::Iprange(Box::new(m)))
}

impl Iprange {
    pub fn save(&self, out: &mut String) {
        for (name, range) in [("src-range", &self.src), ("dst-range", &self.dst)] {
            if let Some(r) = range {
                super::save::save_opt_value(out, r.invert, name, r.value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{err4, err6, same, v4, v6};
    use crate::model::Family;

    #[test]
    fn saves_both_ends() {
        assert_eq!(v4("-m iprange --src-range 1.2.3.4"), "-m iprange --src-range 1.2.3.4-1.2.3.4");
        assert_eq!(
            v4("-m iprange ! --dst-range 10.1-10.2.0.255 --src-range 1.2.3.4-1.2.3.10"),
            "-m iprange --src-range 1.2.3.4-1.2.3.10 ! --dst-range 10.1.0.0-10.2.0.255"
        );
        assert_eq!(v4("-m iprange --src-range 1.2.3.9-1.2.3.1"), "-m iprange --src-range 1.2.3.9-1.2.3.1");
        assert_eq!(v4("-m iprange --src-range 0x0a.0.0.010"), "-m iprange --src-range 10.0.0.8-10.0.0.8");
        assert_eq!(
            v6("-m iprange --src-range 2001:db8::1-2001:db8:0:0:0:0:0:ff"),
            "-m iprange --src-range 2001:db8::1-2001:db8::ff"
        );
        same(Family::Ipv4, "-m iprange --src-range 1.2.3.4", "-m iprange --src-range 1.2.3.4-1.2.3.4");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-m iprange").contains("`--src-range` or `--dst-range`"));
        assert!(err4("-m iprange --src-range 1.2.3.4-").contains("`` is no IPv4 address"));
        assert!(err4("-m iprange --src-range 1.2.3.256").contains("is no IPv4 address"));
        assert!(err4("-m iprange --src-range 1.2.3.4/24").contains("is no IPv4 address"));
        assert!(err4("-m iprange --src-range 1.2.3.4-1.2.3.5-1.2.3.6").contains("is no IPv4 address"));
        assert!(err4("-m iprange --src-range 2001:db8::1").contains("is no IPv4 address"));
        assert!(err4("-m iprange --src-range 1.1.1.1 --src-range 2.2.2.2").contains("given twice"));
        assert!(err6("-m iprange --dst-range 1.2.3.4").contains("is no IPv6 address"));
    }
}
