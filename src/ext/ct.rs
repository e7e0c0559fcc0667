//! `-j CT` (libxt_CT, revision 2) and its alias `-j NOTRACK`: set up the connection tracking
//! entry of a packet before it is tracked: no tracking, a helper, a timeout policy, which events
//! to report, a zone.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::{TargetKind, num};

/// `char helper[16]`.
pub const MAX_HELPER: usize = 15;
/// `char timeout[32]`.
pub const MAX_TIMEOUT: usize = 31;

/// Conntrack events by name, in bit order (`IPCT_*`), the order iptables prints them in.
const CT_EVENTS: &[&str] =
    &["new", "related", "destroy", "reply", "assured", "protoinfo", "helper", "mark", "natseqinfo", "secmark"];
/// Expectation events (`IPEXP_*`).
const EXP_EVENTS: &[&str] = &["new"];

/// `-j CT`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Ct {
    /// `--notrack`: the packet stays untracked.
    pub notrack: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helper: Option<Box<str>>,
    /// A timeout policy made with `nfct timeout`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Box<str>>,
    /// Which conntrack events to report, a bit per entry of `new, related, destroy, reply,
    /// assured, protoinfo, helper, mark, natseqinfo, secmark`; 0 reports them all (the default).
    pub ct_events: u16,
    /// Which expectation events to report (bit 0: `new`); 0 reports them all.
    pub exp_events: u8,
    /// The zone; `None` is zone 0 in both directions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<CtZone>,
}

/// `--zone`, `--zone-orig`, `--zone-reply`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct CtZone {
    pub id: ZoneId,
    pub dir: ZoneDir,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ZoneId {
    Id(u16),
    /// The zone is the packet's mark.
    Mark,
}

/// Which direction of the connection the zone applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ZoneDir {
    Both,
    Original,
    Reply,
}

const NOTRACK: u8 = 0;
const HELPER: u8 = 1;
const TIMEOUT: u8 = 2;
const CTEVENTS: u8 = 3;
const EXPEVENTS: u8 = 4;
const ZONE: u8 = 5;
const ZONE_ORIG: u8 = 6;
const ZONE_REPLY: u8 = 7;

pub static SPEC: TargetSpec = TargetSpec {
    name: "CT",
    availability: Availability::Both,
    options: &[
        OptionSpec::flag("notrack", NOTRACK),
        OptionSpec::value("helper", HELPER),
        OptionSpec::value("timeout", TIMEOUT),
        OptionSpec::value("ctevents", CTEVENTS),
        OptionSpec::value("expevents", EXPEVENTS),
        OptionSpec::value("zone-orig", ZONE_ORIG),
        OptionSpec::value("zone-reply", ZONE_REPLY),
        OptionSpec::value("zone", ZONE),
    ],
    build,
};

/// `-j NOTRACK`: `-j CT --notrack` under its old name, which iptables keeps (the kernel stores
/// a flag for it) and prints back. It takes no options.
pub static NOTRACK_SPEC: TargetSpec = TargetSpec {
    name: "NOTRACK",
    availability: Availability::Both,
    options: &[],
    build: |_| Some(TargetKind::Notrack),
};

/// A comma-separated list of event names, as bits of `table`.
fn parse_events(text: &str, table: &[&str]) -> Result<u16, String> {
    text.split(',').try_fold(0u16, |mask, name| match table.iter().position(|e| *e == name) {
        Some(bit) => Ok(mask | 1 << bit),
        None => Err(name.to_string()),
    })
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let mut ct = Ct { notrack: b.has(NOTRACK), ..Ct::default() };
    let mut ok = true;
    if let Some(opt) = b.get(HELPER)
        && !opt.value().is_empty()
    {
        ct.helper = Some(b.kept(opt, MAX_HELPER));
    }
    if let Some(opt) = b.get(TIMEOUT)
        && !opt.value().is_empty()
    {
        ct.timeout = Some(b.kept(opt, MAX_TIMEOUT));
    }
    for (id, table) in [(CTEVENTS, CT_EVENTS), (EXPEVENTS, EXP_EVENTS)] {
        let Some(opt) = b.get(id) else { continue };
        match parse_events(opt.value(), table) {
            Ok(mask) if id == CTEVENTS => ct.ct_events = mask,
            Ok(mask) => ct.exp_events = mask as u8,
            Err(name) => {
                b.bad_value(opt, format!("a list of {} (`{name}` is none)", table.join(", ")));
                ok = false;
            }
        }
    }
    // every zone option sets its direction and the id, in order; `mark` stays once given
    let (mut orig, mut reply, mut mark, mut id) = (false, false, false, 0u16);
    for opt in b.opts.iter().filter(|o| matches!(o.id, ZONE | ZONE_ORIG | ZONE_REPLY)) {
        orig |= opt.id == ZONE_ORIG;
        reply |= opt.id == ZONE_REPLY;
        id = 0;
        if opt.value().eq_ignore_ascii_case("mark") {
            mark = true;
        } else if let Some(n) = num::uint(opt.value(), 0, u16::MAX as u64) {
            id = n as u16;
        } else {
            b.bad_value(opt, "a zone number 0-65535 or `mark`");
            ok = false;
        }
    }
    if mark || id != 0 {
        let dir = match (orig, reply) {
            (true, false) => ZoneDir::Original,
            (false, true) => ZoneDir::Reply,
            _ => ZoneDir::Both,
        };
        ct.zone = Some(CtZone { id: if mark { ZoneId::Mark } else { ZoneId::Id(id) }, dir });
    }
    ok.then(|| TargetKind::Ct(Box::new(ct)))
}

fn save_events(out: &mut String, option: &str, mask: u16, table: &[&str]) {
    out.push_str(option);
    let mut sep = " ";
    for (bit, name) in table.iter().enumerate() {
        if mask & 1 << bit != 0 {
            out.push_str(sep);
            out.push_str(name);
            sep = ",";
        }
    }
}

impl Ct {
    /// Whether this is exactly `-j CT --notrack`, which does what `-j NOTRACK` does.
    pub fn is_notrack_only(&self) -> bool {
        *self == Ct { notrack: true, ..Ct::default() }
    }

    pub fn save(&self, out: &mut String) {
        if self.notrack {
            out.push_str(" --notrack");
        }
        // printed with %s: not quoted
        if let Some(helper) = &self.helper {
            out.push_str(" --helper ");
            out.push_str(helper);
        }
        if let Some(timeout) = &self.timeout {
            out.push_str(" --timeout ");
            out.push_str(timeout);
        }
        if self.ct_events != 0 {
            save_events(out, " --ctevents", self.ct_events, CT_EVENTS);
        }
        if self.exp_events != 0 {
            save_events(out, " --expevents", self.exp_events.into(), EXP_EVENTS);
        }
        if let Some(zone) = self.zone {
            out.push_str(match zone.dir {
                ZoneDir::Both => " --zone",
                ZoneDir::Original => " --zone-orig",
                ZoneDir::Reply => " --zone-reply",
            });
            match zone.id {
                ZoneId::Mark => out.push_str(" mark"),
                ZoneId::Id(n) => out.push_str(&format!(" {n}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::test_util::{err4, save4, save6, target4, warnings4};

    #[test]
    fn notrack_is_its_own_spelling() {
        assert_eq!(save4("-j NOTRACK"), "-j NOTRACK");
        assert_eq!(save6("-j NOTRACK"), "-j NOTRACK");
        assert_eq!(save4("-j CT --notrack"), "-j CT --notrack");
        assert_eq!(target4("-j NOTRACK"), TargetKind::Notrack);
        let TargetKind::Ct(ct) = target4("-j CT --notrack") else { panic!("not CT") };
        assert!(ct.is_notrack_only());
        assert!(err4("-j NOTRACK --notrack").contains("unknown option `--notrack`"));
    }

    #[test]
    fn saves_in_iptables_order() {
        assert_eq!(
            save4("-p tcp -j CT --helper ftp --zone 3 --ctevents new,destroy --expevents new"),
            "-p tcp -j CT --helper ftp --ctevents new,destroy --expevents new --zone 3"
        );
        assert_eq!(save4("-j CT --notrack --zone 1"), "-j CT --notrack --zone 1");
        assert_eq!(save4("-j CT --timeout tp --helper h"), "-j CT --helper h --timeout tp");
        assert_eq!(save4("-j CT --helper \"\""), "-j CT");
    }

    #[test]
    fn events_print_in_kernel_order_once() {
        assert_eq!(save4("-j CT --ctevents destroy,new"), "-j CT --ctevents new,destroy");
        assert_eq!(save4("-j CT --expevents new,new"), "-j CT --expevents new");
        assert_eq!(
            save4("-j CT --ctevents secmark,natseqinfo,mark,helper,protoinfo,assured,reply,destroy,related,new"),
            "-j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark"
        );
        assert!(err4("-j CT --ctevents new,").contains("`` is none"));
        assert!(err4("-j CT --ctevents NEW").contains("`NEW` is none"));
        assert!(err4("-j CT --expevents destroy").contains("`destroy` is none"));
    }

    #[test]
    fn zones_combine_like_iptables() {
        assert_eq!(save4("-j CT --zone 0"), "-j CT");
        assert_eq!(save4("-j CT --zone-orig 0"), "-j CT");
        assert_eq!(save4("-j CT --zone 0x10"), "-j CT --zone 16");
        assert_eq!(save4("-j CT --zone MARK"), "-j CT --zone mark");
        assert_eq!(save4("-j CT --zone-orig 1 --zone-reply 2"), "-j CT --zone 2");
        assert_eq!(save4("-j CT --zone 1 --zone-orig 2"), "-j CT --zone-orig 2");
        assert_eq!(save4("-j CT --zone-orig 5 --zone mark"), "-j CT --zone-orig mark");
        assert_eq!(save4("-j CT --zone mark --zone-reply 7"), "-j CT --zone-reply mark");
        assert_eq!(save4("-j CT --zone-orig 1 --zone-reply 0"), "-j CT");
        assert_eq!(target4("-j CT --zone-orig 0"), target4("-j CT"));
        assert!(err4("-j CT --zone 65536").contains("zone number"));
        assert!(err4("-j CT --zone -1").contains("zone number"));
    }

    #[test]
    fn names_are_cut_to_the_kernel_buffers() {
        assert_eq!(save4("-j CT --helper ftpxxxxxxxxxxxxxxxxxx"), "-j CT --helper ftpxxxxxxxxxxxx");
        assert!(warnings4("-j CT --helper ftpxxxxxxxxxxxxxxxxxx")[0].contains("keeps 15"));
    }

    #[test]
    fn options_once() {
        assert!(err4("-j CT --notrack --notrack").contains("given twice"));
        assert!(err4("-j CT --ctevents new --ctevents related").contains("given twice"));
    }
}
