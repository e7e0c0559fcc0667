use super::input_policy::{accepts, dropping_inputs, rules_on_hook};
use super::missing_loopback_accept::drop_finding;
use crate::ext::conntrack::CtStates;
use crate::lint::{Context, Finding};
use crate::model::{Hook, MatchKind, Rule};

crate::declare_lint! {
    /// ## What it does
    /// Finds an INPUT chain that drops by default and has no rule accepting the packets of
    /// connections already established (`--ctstate ESTABLISHED`).
    ///
    /// ## Why is this bad?
    /// The replies to the host's own connections come back through INPUT: with no accept for
    /// them, the host cannot resolve names, fetch updates or reach anything, though every
    /// outgoing rule allows it.
    ///
    /// ## Example
    /// ```text
    /// :INPUT DROP [0:0]
    /// -A INPUT -i lo -j ACCEPT
    /// -A INPUT -p tcp --dport 22 -j ACCEPT
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// :INPUT DROP [0:0]
    /// -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    /// -A INPUT -i lo -j ACCEPT
    /// -A INPUT -p tcp --dport 22 -j ACCEPT
    /// ```
    pub static LINT = "IPT205", "missing-established-accept", Suspicious, check;
}

/// Whether a match requires the ESTABLISHED state (and not its negation).
pub fn wants_established(kind: &MatchKind) -> bool {
    let states = match kind {
        MatchKind::State(s) => Some(&s.state),
        MatchKind::Conntrack(c) => c.state.as_ref(),
        _ => None,
    };
    states.is_some_and(|s| !s.invert && s.value.contains(CtStates::ESTABLISHED))
}

/// A rule that accepts established connections by naming the state, or accepts everything.
pub fn accepts_established(rule: &Rule) -> bool {
    accepts(rule)
        && (rule.matches.iter().any(|m| wants_established(&m.kind))
            || rule.matches.is_empty()
                && rule.src.is_none()
                && rule.dst.is_none()
                && rule.in_iface().is_none()
                && rule.proto.is_none())
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for input in dropping_inputs(cx) {
        let table = &cx.ruleset.tables[input.table];
        if rules_on_hook(cx, input.table, table, Hook::Input).iter().any(|(_, r)| accepts_established(r)) {
            continue;
        }
        found.push(
            drop_finding(&input, "no rule accepts packets of established connections")
                .help("accept them early: `-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`"),
        );
    }
}
