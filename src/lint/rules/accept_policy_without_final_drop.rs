use super::{live_rules, target_text};
use crate::lint::{Context, Finding};
use crate::model::{Chain, Hook, Policy, Table, TableName, TargetKind};

crate::declare_lint! {
    /// ## What it does
    /// Finds the filter table's INPUT or FORWARD chain with an ACCEPT policy and no final rule
    /// that drops or rejects what the rules before it did not accept.
    ///
    /// ## Why is this bad?
    /// Everything the rules do not name gets in: a new service listening on the host, or a
    /// forwarded port, is open to the world without anyone deciding so.
    ///
    /// ## Example
    /// ```text
    /// :INPUT ACCEPT [0:0]
    /// -A INPUT -p tcp --dport 23 -j DROP
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// :INPUT DROP [0:0]
    /// -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    /// -A INPUT -i lo -j ACCEPT
    /// -A INPUT -p tcp --dport 22 -j ACCEPT
    /// ```
    pub static LINT = "IPT302", "accept-policy-without-final-drop", Security, check;
}

/// Whether every packet that reaches the end of `chain`'s live rules is dropped or rejected
/// by a last rule with no condition, or by a user chain such a rule jumps to.
fn ends_in_drop(table: &Table, chain: &Chain, depth: usize) -> bool {
    let Some(last) = live_rules(chain, table.family).last() else { return false };
    if !last.is_unconditional(table.family) || depth > 64 {
        return false;
    }
    match &last.target.kind {
        TargetKind::Drop | TargetKind::Reject(_) => true,
        TargetKind::Jump(name) | TargetKind::Goto(name) => {
            table.chain(name).is_some_and(|next| ends_in_drop(table, next, depth + 1))
        }
        _ => false,
    }
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for table in cx.ruleset.tables.iter().filter(|t| t.name == TableName::Filter) {
        for chain in &table.chains {
            let Some(builtin) = chain.builtin else { continue };
            if !matches!(builtin.hook, Hook::Input | Hook::Forward) || builtin.policy != Policy::Accept {
                continue;
            }
            if ends_in_drop(table, chain, 0) {
                continue;
            }
            let label = if chain.span.is_empty() { "no declaration: an ACCEPT policy" } else { "ACCEPT policy" };
            let mut finding = Finding::new(
                None,
                Context::chain_span(table, chain),
                format!("`{}` accepts whatever its rules do not drop ({})", chain.name, table.family),
                label,
            )
            .help(format!("set the policy to DROP (`:{} DROP`), or end the chain with `-j DROP`", chain.name));
            if let Some(last) = live_rules(chain, table.family).last() {
                let why = if last.is_unconditional(table.family) { "lets packets through" } else { "has a condition" };
                finding =
                    finding.related(last.span, format!("the last rule, `{}`, {why}", target_text(&last.target.kind)));
            }
            found.push(finding);
        }
    }
}
