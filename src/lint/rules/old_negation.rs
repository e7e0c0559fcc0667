use crate::lint::{Context, Finding};

crate::declare_lint! {
    /// ## What it does
    /// Finds a `!` written after its option (`-s ! 10.0.0.1`, `--dport ! 22`), the way
    /// iptables before 1.4.3 wrote negations.
    ///
    /// ## Why is this bad?
    /// Only old iptables wrote negations this way. iptables-restore 1.8.9 refuses such a line
    /// for IPv4 and IPv6 (its `check_inverse` reads the old order only for arptables; checked
    /// on a real load: `fixtures/check/old-negation.rules`), so the file ipt reads (leniently,
    /// with the warning `ipt::load::old_negation`) does not load on a host. This lint reports
    /// each one under a code that `ipt.toml` and `# ipt: allow(...)` can set.
    ///
    /// ## Example
    /// ```text
    /// -A INPUT -s ! 192.0.2.0/24 -p tcp --dport 22 -j DROP
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// -A INPUT ! -s 192.0.2.0/24 -p tcp --dport 22 -j DROP
    /// ```
    /// (`ipt fmt --write` rewrites every rule this way.)
    pub static LINT = "IPT602", "old-negation", Portability, check;
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (at, _, _, rule) in cx.rules() {
        for &span in rule.old_negations() {
            found.push(
                Finding::new(
                    Some(at),
                    span,
                    "a `!` after its option does not load with current iptables",
                    "move this `!` before its option",
                )
                .help("write the `!` before its option (`! -s VALUE`, not `-s ! VALUE`); `ipt fmt --write` does it for the whole file"),
            );
        }
    }
}
