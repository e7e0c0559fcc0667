//! The checks a kernel extension makes of its own options when a table loads (its
//! `checkentry`), beyond where it may stand.

use super::CheckError;
use crate::ext::addrtype::AddrTypes;
use crate::ext::host::HostAddr;
use crate::ext::limit::Limit;
use crate::ext::owner::OwnerId;
use crate::model::{Family, MatchKind, Neg, Proto, Rule, TargetKind};

/// The values of `CONFIG_HZ` server kernels are built with (Debian 250, Arch 300, RHEL 1000);
/// the limit match's arithmetic depends on it.
const HZ_VALUES: [u32; 3] = [250, 300, 1000];
/// Older or embedded kernels.
const HZ_RARE: [u32; 1] = [100];

/// Whether the kernel can make a file of that name (in /proc or /sys): not empty, `.` or
/// `..`, and without `/`.
fn is_file_name(name: &str) -> bool {
    !matches!(name, "" | "." | "..") && !name.contains('/')
}

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
            MatchKind::Recent(r) if r.hitcount > 65535 => problems.push(CheckError::KernelRefuses {
                span: m.span,
                message: format!("`--hitcount {}` is over the kernel's limit", r.hitcount),
                why: "xt_recent keeps at most 65535 timestamps per address",
                help: "use a hitcount of 65535 or less".into(),
            }),
            MatchKind::Recent(r) if !is_file_name(&r.name) => problems.push(CheckError::KernelRefuses {
                span: m.span,
                message: format!("`-m recent --name \"{}\"` is no file name", r.name),
                why: "xt_recent names its list in /proc/net/xt_recent/",
                help: "name the list with letters, digits and `-_.`, without `/`".into(),
            }),
            MatchKind::Hashlimit(h) if !is_file_name(&h.name) => problems.push(CheckError::KernelRefuses {
                span: m.span,
                message: format!("`-m hashlimit --hashlimit-name \"{}\"` is no file name", h.name),
                why: "xt_hashlimit names its table in /proc/net/ipt_hashlimit/",
                help: "name the table with letters, digits and `-_.`, without `/`".into(),
            }),
            MatchKind::Owner(o) => {
                for (id, what) in [(&o.uid, "--uid-owner"), (&o.gid, "--gid-owner")] {
                    if let Some(Neg { value: OwnerId::Range { min, max }, .. }) = id
                        && min > max
                    {
                        problems.push(CheckError::KernelRefuses {
                            span: m.span,
                            message: format!("`{what} {min}-{max}` is a range from high to low"),
                            why: "xt_owner refuses a reversed range",
                            help: format!("write `{what} {max}-{min}`"),
                        });
                    }
                }
            }
            MatchKind::String(st) => {
                let why = if st.pattern.value.is_empty() {
                    Some(("an empty pattern", "search for at least one byte"))
                } else if !matches!(&*st.algo, "bm" | "kmp") {
                    Some(("an algorithm the kernel does not have", "use `--algo bm` or `--algo kmp` (lowercase)"))
                } else if st.to < st.from {
                    Some(("`--to` before `--from`", "search from a lower offset to a higher one"))
                } else {
                    None
                };
                if let Some((what, help)) = why {
                    problems.push(CheckError::KernelRefuses {
                        span: m.span,
                        message: format!("`-m string` with {what}"),
                        why: "refused by xt_string",
                        help: help.into(),
                    });
                }
            }
            MatchKind::Cgroup(c) if c.path.is_some() && c.classid.is_none() => {
                problems.push(CheckError::HostDependent {
                    span: m.span,
                    name: "-m cgroup --path".into(),
                    what: "the cgroup (v2) path exists on the host",
                })
            }
            MatchKind::Cgroup(c) if c.path.is_some() == c.classid.is_some() => {
                problems.push(CheckError::KernelRefuses {
                    span: m.span,
                    message: "`-m cgroup` needs exactly one of `--path` and `--cgroup`".into(),
                    why: "xt_cgroup refuses both, and neither",
                    help: "match the cgroup by path (cgroup v2) or by class id (v1), not both".into(),
                })
            }
            MatchKind::Hashlimit(h) => {
                let max_mask = if family == Family::Ipv4 { 32 } else { 128 };
                if h.srcmask.is_some_and(|m| m > max_mask) || h.dstmask.is_some_and(|m| m > max_mask) {
                    problems.push(CheckError::KernelRefuses {
                        span: m.span,
                        message: format!("`-m hashlimit` mask over /{max_mask}"),
                        why: "xt_hashlimit refuses a mask longer than the address",
                        help: format!("use a prefix length of {max_mask} or less"),
                    });
                } else if !h.bytes {
                    let refused: Vec<String> = HZ_VALUES
                        .into_iter()
                        .chain(HZ_RARE)
                        .filter(|&hz| hashlimit_overflows(h.avg, h.burst, u64::from(hz)))
                        .map(|hz| hz.to_string())
                        .collect();
                    if !refused.is_empty() {
                        problems.push(CheckError::KernelRefuses {
                            span: m.span,
                            message: format!(
                                "`-m hashlimit` rate and burst overflow the kernel's counters on kernels with HZ {}",
                                refused.join(", ")
                            ),
                            why: "refused by xt_hashlimit",
                            help: "its 64-bit credit arithmetic wraps; lower the burst, or use a faster rate".into(),
                        });
                    }
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
    match &rule.target.kind {
        // with `--notrack`, xt_CT sets nothing else up
        TargetKind::Ct(ct) if !ct.notrack => check_ct_helper(family, rule, ct.helper.as_deref(), problems),
        TargetKind::Tee(t) if matches!(t.gateway, HostAddr::Ip(ip) if ip.is_unspecified()) => {
            problems.push(CheckError::KernelRefuses {
                span: rule.target.span,
                message: format!("`-j TEE --gateway {}` is no gateway", t.gateway),
                why: "xt_TEE refuses the unspecified address",
                help: "give the address of the host that takes the copies".into(),
            })
        }
        TargetKind::Connmark(c) if c.shift.is_some_and(|s| s.bits > 31) => problems.push(CheckError::KernelRefuses {
            span: rule.target.span,
            message: "`-j CONNMARK` shifts the mark by more than 31 bits".into(),
            why: "xt_CONNMARK refuses a shift of 32 or more",
            help: "shift by 0-31 bits".into(),
        }),
        TargetKind::Idletimer(t) => {
            // xt_IDLETIMER: `timeout == 0 || timeout >= INT_MAX / 1000`
            if t.timeout == 0 || t.timeout >= i32::MAX as u32 / 1000 {
                problems.push(CheckError::KernelRefuses {
                    span: rule.target.span,
                    message: format!("`-j IDLETIMER --timeout {}` is out of the kernel's range", t.timeout),
                    why: "xt_IDLETIMER takes 1-2147482 seconds",
                    help: "use a timeout of 1 to 2147482 seconds".into(),
                });
            }
            if !is_file_name(&t.label) {
                problems.push(CheckError::KernelRefuses {
                    span: rule.target.span,
                    message: format!("`-j IDLETIMER --label \"{}\"` is no file name", t.label),
                    why: "xt_IDLETIMER names its timer in /sys/class/xt_idletimer/timers/",
                    help: "name the timer with letters, digits and `-_.`, without `/`".into(),
                });
            }
            if t.alarm {
                problems.push(CheckError::HostDependent {
                    span: rule.target.span,
                    name: "-j IDLETIMER --alarm".into(),
                    what: "the host's kernel has an alarm timer (an RTC)",
                });
            }
        }
        _ => {}
    }
    if let TargetKind::Ct(ct) = &rule.target.kind
        && ct.timeout.is_some()
    {
        problems.push(CheckError::HostDependent {
            span: rule.target.span,
            name: "-j CT --timeout".into(),
            what: "the timeout policy exists on the host (`nfct add timeout`)",
        });
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

/// The conntrack helpers of Linux, the protocol each serves, and whether it serves IPv6 too.
/// Checked on a kernel (`H.245` exists only inside `Q.931`).
const HELPERS: &[(&str, Proto, bool)] = &[
    ("ftp", Proto::TCP, true),
    ("tftp", Proto::UDP, true),
    ("sip", Proto::TCP, true),
    ("sip", Proto::UDP, true),
    ("irc", Proto::TCP, false),
    ("pptp", Proto::TCP, false),
    ("sane", Proto::TCP, true),
    ("amanda", Proto::UDP, true),
    ("snmp", Proto::UDP, false),
    ("snmp_trap", Proto::UDP, false),
    ("netbios-ns", Proto::UDP, false),
    ("RAS", Proto::UDP, true),
    ("Q.931", Proto::TCP, true),
];

/// xt_CT looks a helper up by name, family and the rule's protocol.
fn check_ct_helper(family: Family, rule: &Rule, helper: Option<&str>, problems: &mut Vec<CheckError>) {
    let Some(name) = helper else { return };
    let span = rule.target.span;
    let Some(proto) = rule.protocol() else {
        problems.push(CheckError::KernelRefuses {
            span,
            message: format!("`-j CT --helper {name}` without a protocol"),
            why: "xt_CT needs the rule's own `-p`, not negated",
            help: "add the protocol the helper serves, such as `-p tcp` for ftp".into(),
        });
        return;
    };
    let known: Vec<&(&str, Proto, bool)> = HELPERS.iter().filter(|(n, _, _)| *n == name).collect();
    if known.is_empty() {
        problems.push(CheckError::HostDependent {
            span,
            name: format!("-j CT --helper {name}"),
            what: "a helper of that name (a kernel module or `nfct add helper`) exists on the host",
        });
    } else if !known.iter().any(|&&(_, p, v6)| p == proto && (v6 || family == Family::Ipv4)) {
        let serves: Vec<String> =
            known.iter().map(|(_, p, v6)| format!("-p {p}{}", if *v6 { "" } else { " (IPv4 only)" })).collect();
        problems.push(CheckError::KernelRefuses {
            span,
            message: format!("the `{name}` helper does not serve `-p {proto}` in {family}"),
            why: "xt_CT finds no such helper",
            help: format!("`{name}` serves {}", serves.join(", ")),
        });
    }
}

/// xt_hashlimit's (revision 3) overflow test on a kernel with this `HZ`: its 64-bit credit
/// arithmetic, on `avg` in microseconds per packet.
pub fn hashlimit_overflows(avg: u64, burst: u64, hz: u64) -> bool {
    // xt_hashlimit revision 3: `XT_HASHLIMIT_SCALE_v2` and 64-bit credits.
    const SCALE: u64 = 1_000_000;
    let max_cpj = u64::MAX / (hz * 60 * 60 * 24);
    let cpj = 1u64 << (63 - max_cpj.leading_zeros());
    let user2credits = |user: u64| -> u64 {
        if SCALE >= hz * cpj { user / (SCALE / (hz * cpj)) } else { user.wrapping_mul(hz * cpj / SCALE) }
    };
    burst == 0 || user2credits(avg.wrapping_mul(burst)) < user2credits(avg)
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

    /// What `load` says of one rule in IPv4 `filter` INPUT: the messages of its errors.
    fn errors(rule: &str) -> Vec<String> {
        errors_in("filter", "INPUT", rule)
    }

    fn errors_in(table: &str, chain: &str, rule: &str) -> Vec<String> {
        let text = format!("*{table}\n:{chain} ACCEPT [0:0]\n-A {chain} {rule}\nCOMMIT\n");
        let loaded = crate::load::load(&crate::source::Source::new("t.rules", text), &Default::default());
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity() == crate::diag::Severity::Error)
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn idletimer_labels_that_are_no_file_name_are_refused() {
        // checked on a kernel: "", "a/b", "." and ".." are refused; "a b" loads
        for label in ["\"\"", "a/b", ".", ".."] {
            let found = errors(&format!("-j IDLETIMER --timeout 10 --label {label}"));
            assert_eq!(found.len(), 1, "{label}: {found:?}");
            assert!(found[0].contains("is no file name"), "{label}: {found:?}");
        }
        assert_eq!(errors("-j IDLETIMER --timeout 10 --label \"a b\""), Vec::<String>::new());
    }

    #[test]
    fn a_tee_to_the_unspecified_address_is_refused() {
        // checked on a kernel: 0.0.0.0 (also written `0`) and :: fail at load
        for gateway in ["0.0.0.0", "0"] {
            let found = errors_in("mangle", "PREROUTING", &format!("-j TEE --gateway {gateway}"));
            assert_eq!(found.len(), 1, "{gateway}: {found:?}");
            assert!(found[0].contains("is no gateway"), "{gateway}: {found:?}");
        }
        assert_eq!(errors_in("mangle", "PREROUTING", "-j TEE --gateway 192.0.2.1"), Vec::<String>::new());
    }

    #[test]
    fn hashlimit_names_that_are_no_file_name_are_refused() {
        // checked on a kernel: "a/b", "/", "./a", "." and ".." are refused; ".a" and "a." load
        for name in ["a/b", "/", "./a", ".", ".."] {
            let found = errors(&format!("-m hashlimit --hashlimit-upto 1/sec --hashlimit-name {name}"));
            assert_eq!(found.len(), 1, "{name}: {found:?}");
            assert!(found[0].contains("is no file name"), "{name}: {found:?}");
        }
        for name in [".a", "a."] {
            let found = errors(&format!("-m hashlimit --hashlimit-upto 1/sec --hashlimit-name {name}"));
            assert_eq!(found, Vec::<String>::new(), "{name}");
        }
    }

    #[test]
    fn hashlimit_overflow_wraps_as_the_kernel_computes_it() {
        // Checked on a kernel: 1/day loads with bursts 1000 and 5000, and is refused with 5 and 10000.
        let day = 86_400 * 1_000_000;
        for hz in [250, 1000] {
            let refused: Vec<bool> = [5, 1000, 5000, 10000].map(|b| hashlimit_overflows(day, b, hz)).to_vec();
            assert_eq!(refused, [true, false, false, true], "HZ {hz}");
        }
        assert!(hashlimit_overflows(day, 1000, 300));
        assert!(!hashlimit_overflows(1_000_000, 5, 250));
        assert!(hashlimit_overflows(1_000_000, 0, 250));
    }

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
