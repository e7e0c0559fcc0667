use super::input_policy::{accepts, dropping_inputs, rules_on_hook};
use super::missing_loopback_accept::drop_finding;
use crate::ext::conntrack::CtStates;
use crate::ext::multiport::Direction;
use crate::lint::{Context, Finding};
use crate::model::{Hook, MatchKind, Neg, PortRange, Proto, Rule};

crate::declare_lint! {
    /// ## What it does
    /// Finds an INPUT chain that drops by default with no rule that could accept a new SSH
    /// connection (TCP port 22).
    ///
    /// ## Why is this bad?
    /// Whoever applies these rules over SSH is locked out the moment they load, and needs a
    /// console to get back in.
    ///
    /// A rule counts as accepting SSH if it could accept some new TCP connection to port 22
    /// from outside (not only on `lo`): any source, any other interface, and matches ipt cannot
    /// decide (`-m recent`, `-m set`, ...) count in its favour, so this lint speaks only when
    /// no rule could.
    ///
    /// ## Example
    /// ```text
    /// :INPUT DROP [0:0]
    /// -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    /// -A INPUT -p tcp --dport 443 -j ACCEPT
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// :INPUT DROP [0:0]
    /// -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    /// -A INPUT -p tcp --dport 22 -j ACCEPT
    /// -A INPUT -p tcp --dport 443 -j ACCEPT
    /// ```
    pub static LINT = "IPT301", "ssh-lockout", Security, check;
}

const SSH: u16 = 22;

fn port_allows(ports: &Option<Neg<PortRange>>) -> bool {
    ports.as_ref().is_none_or(|p| p.value.contains(SSH) != p.invert)
}

/// Whether the rule could accept the first packet of a TCP connection to port 22.
fn could_accept_ssh(rule: &Rule) -> bool {
    if !accepts(rule) {
        return false;
    }
    let tcp_ok = rule.proto.as_ref().is_none_or(|p| (p.value == Proto::TCP || p.value == Proto::ALL) != p.invert);
    // a rule only for the loopback interface accepts no one from outside
    let remote_ok = rule.in_iface().is_none_or(|i| i.invert || i.value.as_str() != "lo");
    tcp_ok
        && remote_ok
        && rule.matches.iter().all(|m| match &m.kind {
            MatchKind::Tcp(t) => port_allows(&t.dport),
            MatchKind::Multiport(mp) => {
                let has = mp.ports.iter().any(|p| p.contains(SSH));
                match mp.direction {
                    Direction::Destination | Direction::Either => has != mp.invert || mp.direction == Direction::Either,
                    Direction::Source => true,
                }
            }
            MatchKind::State(s) => s.state.value.contains(CtStates::NEW) != s.state.invert,
            MatchKind::Conntrack(c) => c.state.as_ref().is_none_or(|s| s.value.contains(CtStates::NEW) != s.invert),
            MatchKind::Udp(_) | MatchKind::Icmp(_) | MatchKind::Icmp6(_) => false,
            // anything else may let it through
            _ => true,
        })
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for input in dropping_inputs(cx) {
        let table = &cx.ruleset.tables[input.table];
        if rules_on_hook(cx, input.table, table, Hook::Input).iter().any(|(_, r)| could_accept_ssh(r)) {
            continue;
        }
        found.push(drop_finding(&input, "no rule could accept a new SSH connection (`-p tcp --dport 22`)").help(
            "accept SSH before anything drops it, e.g. `-A INPUT -p tcp --dport 22 -j ACCEPT` (narrowed with `-s` to where you connect from)",
        ));
    }
}
