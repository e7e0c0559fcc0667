use crate::lint::{Context, Finding};
use crate::model::MatchKind;

crate::declare_lint! {
    /// ## What it does
    /// Finds `-m state --state`, the older spelling of `-m conntrack --ctstate`.
    ///
    /// ## Why is this bad?
    /// The kernel implements `state` as an alias of `conntrack`; new rules, `iptables-translate`
    /// and the nftables documentation use `conntrack`, which also matches the SNAT and DNAT
    /// states and the rest of a connection's tracking data.
    ///
    /// ## Example
    /// ```text
    /// -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    /// ```
    pub static LINT = "IPT501", "state-module", Style, check;
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (at, _, _, rule) in cx.rules() {
        for m in &rule.matches {
            if let MatchKind::State(s) = &m.kind {
                let not = if s.state.invert { "! " } else { "" };
                found.push(
                    Finding::new(Some(at), m.span, "`-m state` is the old spelling of `-m conntrack`", "old spelling")
                        .help(format!("write `-m conntrack {not}--ctstate {}`", s.state.value)),
                );
            }
        }
    }
}
