//! The checks a kernel extension makes of its own options when a table loads (its
//! `checkentry`), beyond where it may stand.

use super::CheckError;
use crate::ext::addrtype::AddrTypes;
use crate::ext::limit::Limit;
use crate::model::{Family, MatchKind, Rule};

/// The values of `CONFIG_HZ` server kernels are built with (Debian 250, Arch 300, RHEL 1000);
/// the limit match's arithmetic depends on it.
const HZ_VALUES: [u32; 3] = [250, 300, 1000];
/// Older or embedded kernels.
const HZ_RARE: [u32; 1] = [100];

pub fn check_rule(family: Family, rule: &Rule, problems: &mut Vec<CheckError>) {
    for m in &rule.matches {
        match &m.kind {
            MatchKind::Limit(limit) => {
                let refused: Vec<u32> =
                    HZ_VALUES.into_iter().chain(HZ_RARE).filter(|&hz| limit_overflows(*limit, hz)).collect();
                if refused.iter().any(|hz| HZ_VALUES.contains(hz)) {
                    problems.push(CheckError::LimitOverflow {
                        span: m.span,
                        rate: crate::ext::limit::rate_text(limit.avg),
                        burst: limit.burst,
                    });
                } else if !refused.is_empty() {
                    let hz: Vec<String> = refused.iter().map(u32::to_string).collect();
                    problems.push(CheckError::LimitOverflowSomeKernels { span: m.span, hz: hz.join(", ") });
                }
            }
            MatchKind::Addrtype(a) if family == Family::Ipv6 => {
                let types = a.src.as_ref().map_or(0, |s| s.value.0) | a.dst.as_ref().map_or(0, |d| d.value.0);
                let why = if types & (1 << 6) != 0 {
                    Some("IPv6 has no BLACKHOLE address type")
                } else if types >= 1 << 8 {
                    Some("IPv6 has no PROHIBIT, THROW, NAT or XRESOLVE address type")
                } else if types & (1 << 3) != 0 {
                    Some("IPv6 has no BROADCAST addresses")
                } else {
                    None
                };
                if let Some(why) = why {
                    problems.push(CheckError::KernelRefuses {
                        span: m.span,
                        message: format!("`-m addrtype` with {} in an IPv6 table", AddrTypes(types)),
                        why,
                        help: "match UNICAST, LOCAL, ANYCAST, MULTICAST or UNREACHABLE in ip6tables".into(),
                    });
                }
            }
            _ => {}
        }
    }
    if let crate::model::TargetKind::Nfqueue(q) = &rule.target.kind
        && q.total == 0
    {
        problems.push(CheckError::KernelRefuses {
            span: rule.target.span,
            message: "`-j NFQUEUE` over zero queues".into(),
            why: "--queue-balance spans 65536 queues, which the kernel's 16-bit count makes 0",
            help: "balance over fewer queues".into(),
        });
    }
}

/// xt_limit's `checkentry` on a kernel with this `HZ`: a zero burst, or a burst that overflows
/// the 32-bit credit arithmetic, is refused.
pub fn limit_overflows(limit: Limit, hz: u32) -> bool {
    let max_cpj = u32::MAX / (hz * 60 * 60 * 24);
    let credits_per_jiffy = 1u32 << (31 - max_cpj.leading_zeros());
    let user2credits = |user: u32| -> u32 {
        if user > u32::MAX / (hz * credits_per_jiffy) {
            (user / crate::ext::limit::SCALE).wrapping_mul(hz).wrapping_mul(credits_per_jiffy)
        } else {
            user.wrapping_mul(hz).wrapping_mul(credits_per_jiffy) / crate::ext::limit::SCALE
        }
    };
    limit.burst == 0 || user2credits(limit.avg.wrapping_mul(limit.burst)) < user2credits(limit.avg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::limit::{DEFAULT_AVG, DEFAULT_BURST, parse_rate};

    #[test]
    fn limit_overflow_as_the_kernel_computes_it() {
        let day = Limit { avg: parse_rate("1/day").unwrap(), burst: DEFAULT_BURST };
        assert!(limit_overflows(day, 250));
        assert!(limit_overflows(Limit { avg: DEFAULT_AVG, burst: 10000 }, 250));
        assert!(limit_overflows(Limit { avg: DEFAULT_AVG, burst: 0 }, 250));
        assert!(!limit_overflows(Limit { avg: parse_rate("5/minute").unwrap(), burst: 10 }, 250));
        assert!(!limit_overflows(Limit { avg: DEFAULT_AVG, burst: DEFAULT_BURST }, 1000));
    }
}
