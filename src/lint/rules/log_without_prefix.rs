use crate::lint::{Context, Finding};
use crate::model::TargetKind;

crate::declare_lint! {
    /// ## What it does
    /// Finds `-j LOG` and `-j NFLOG` rules without a prefix.
    ///
    /// ## Why is this bad?
    /// The kernel log then says nothing about which rule logged the packet, or why: a log line
    /// from the SSH rule and one from the final drop look the same.
    ///
    /// ## Example
    /// ```text
    /// -A INPUT -j LOG
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// -A INPUT -j LOG --log-prefix "input drop: "
    /// ```
    pub static LINT = "IPT502", "log-without-prefix", Style, check;
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (at, _, _, rule) in cx.rules() {
        let option = match &rule.target.kind {
            TargetKind::Log(log) if log.prefix.is_none() => "--log-prefix",
            TargetKind::Nflog(nflog) if nflog.prefix.is_none() => "--nflog-prefix",
            _ => continue,
        };
        found.push(
            Finding::new(Some(at), rule.target.span, "logs without a prefix", "no prefix")
                .help(format!("say which rule logs, and why: `{option} \"input drop: \"`")),
        );
    }
}
