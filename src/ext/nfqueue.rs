//! `-j NFQUEUE` (libxt_NFQUEUE, revision 3): hand the packet to a user-space program through
//! one queue, or one of a range of queues.

use serde::Serialize;

use super::build::Build;
use super::opts::OptionSpec;
use super::{Availability, TargetSpec};
use crate::model::{TargetKind, num};

/// `-j NFQUEUE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Nfqueue {
    /// The (first) queue number.
    pub queue: u16,
    /// How many queues, from `queue` on, the flows are spread over (1 for `--queue-num`). The
    /// kernel's 16-bit count: `--queue-balance 0:65535` makes it 0, which the kernel refuses.
    pub total: u16,
    /// `--queue-bypass`: accept the packet when no program listens.
    pub bypass: bool,
    /// `--queue-cpu-fanout`: pick the queue by CPU, not by flow hash.
    pub cpu_fanout: bool,
}

const NUM: u8 = 0;
const BALANCE: u8 = 1;
const BYPASS: u8 = 2;
const CPU_FANOUT: u8 = 3;

pub static SPEC: TargetSpec = TargetSpec {
    name: "NFQUEUE",
    availability: Availability::Both,
    options: &[
        OptionSpec::value("queue-num", NUM),
        OptionSpec::value("queue-balance", BALANCE),
        OptionSpec::flag("queue-bypass", BYPASS),
        OptionSpec::flag("queue-cpu-fanout", CPU_FANOUT),
    ],
    build,
};

/// `first:last` as `XTTYPE_UINT16RC` reads it in iptables 1.8.9: numbers 0-65535, an empty
/// part is 0 (first) or 65535 (last); the order is checked afterwards.
fn parse_balance(text: &str) -> Result<(u16, u16), String> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 2 {
        return Err("two queue numbers `first:last`".into());
    }
    let mut values = Vec::with_capacity(2);
    for (i, part) in parts.iter().enumerate() {
        let value = if part.is_empty() {
            if i == 1 { 65535 } else { 0 }
        } else {
            match num::uint_prefix(part, 0, 65535) {
                Some((v, "")) => v,
                _ => return Err(format!("queue numbers 0-65535 in `first:last` (`{part}` is not)")),
            }
        };
        values.push(value as u16);
    }
    match values[..] {
        [first, last] if first < last => Ok((first, last)),
        [first, last] => Err(format!("`first:last` with the first queue below the last ({first} is not below {last})")),
        _ => Err("a range of queues `first:last`".into()),
    }
}

fn build(b: &mut Build<'_, '_>) -> Option<TargetKind> {
    let mut ok = b.at_most_one(&[NUM, BALANCE]);
    let mut q = Nfqueue { queue: 0, total: 1, bypass: b.has(BYPASS), cpu_fanout: b.has(CPU_FANOUT) };
    if let Some(opt) = b.get(NUM) {
        match b.number(opt, 0, 65535) {
            Some(n) => q.queue = n as u16,
            None => ok = false,
        }
    }
    if let Some(opt) = b.get(BALANCE) {
        match parse_balance(opt.value()) {
            Ok((first, last)) => {
                q.queue = first;
                q.total = (last - first).wrapping_add(1);
            }
            Err(expected) => {
                b.bad_value(opt, expected);
                ok = false;
            }
        }
    } else if let Some(opt) = b.get(CPU_FANOUT) {
        b.fail(
            opt.span,
            "`--queue-cpu-fanout` needs `--queue-balance`",
            "spread over a range of queues with `--queue-balance FIRST:LAST`",
        );
        ok = false;
    }
    ok.then_some(TargetKind::Nfqueue(q))
}

impl Nfqueue {
    pub fn save(&self, out: &mut String) {
        if self.total > 1 {
            let last = self.queue as u32 + self.total as u32 - 1;
            out.push_str(&format!(" --queue-balance {}:{last}", self.queue));
        } else {
            out.push_str(&format!(" --queue-num {}", self.queue));
        }
        if self.bypass {
            out.push_str(" --queue-bypass");
        }
        if self.cpu_fanout {
            out.push_str(" --queue-cpu-fanout");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ext::test_util::{err4, save4, save6, target4};

    fn saved(options: &str) -> String {
        save4(&format!("-j NFQUEUE {options}")).trim_start_matches("-j NFQUEUE").trim_start().to_string()
    }

    #[test]
    fn queue_zero_by_default() {
        assert_eq!(save4("-j NFQUEUE"), "-j NFQUEUE --queue-num 0");
        assert_eq!(saved("--queue-bypass"), "--queue-num 0 --queue-bypass");
        assert_eq!(target4("-j NFQUEUE --queue-num 0"), target4("-j NFQUEUE"));
        assert_eq!(save6("-j NFQUEUE --queue-num 9 --queue-bypass"), "-j NFQUEUE --queue-num 9 --queue-bypass");
    }

    #[test]
    fn balance_ranges() {
        assert_eq!(saved("--queue-balance 0:3"), "--queue-balance 0:3");
        assert_eq!(saved("--queue-balance 0x10:0x20"), "--queue-balance 16:32");
        assert_eq!(saved("--queue-balance :4"), "--queue-balance 0:4");
        assert_eq!(saved("--queue-balance 4:"), "--queue-balance 4:65535");
        assert_eq!(saved("--queue-balance 0:65534"), "--queue-balance 0:65534");
        assert_eq!(
            saved("--queue-bypass --queue-balance 0:6 --queue-cpu-fanout"),
            "--queue-balance 0:6 --queue-bypass --queue-cpu-fanout"
        );
        // 65536 queues do not fit the kernel's count: it becomes 0 (and the kernel refuses it)
        assert_eq!(saved("--queue-balance 0:65535"), "--queue-num 0");
        assert_eq!(saved("--queue-balance :"), "--queue-num 0");
    }

    #[test]
    fn refuses_what_iptables_refuses() {
        assert!(err4("-j NFQUEUE --queue-num 65536").contains("0-65535"));
        assert!(err4("-j NFQUEUE --queue-num -1").contains("0-65535"));
        assert!(err4("-j NFQUEUE --queue-balance 3:0").contains("3 is not below 0"));
        assert!(err4("-j NFQUEUE --queue-balance 2:2").contains("2 is not below 2"));
        assert!(err4("-j NFQUEUE --queue-balance 4").contains("first:last"));
        assert!(err4("-j NFQUEUE --queue-balance 1:2:3").contains("first:last"));
        assert!(err4("-j NFQUEUE --queue-balance 1x:2").contains("`1x` is not"));
        assert!(err4("-j NFQUEUE --queue-balance 0:65536").contains("`65536` is not"));
        assert!(err4("-j NFQUEUE --queue-num 1 --queue-balance 0:3").contains("cannot be used together"));
        assert!(err4("-j NFQUEUE --queue-cpu-fanout").contains("needs `--queue-balance`"));
        assert!(err4("-j NFQUEUE --queue-bypass --queue-bypass").contains("given twice"));
    }
}
