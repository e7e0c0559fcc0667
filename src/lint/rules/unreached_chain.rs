use crate::lint::{Context, Finding};

crate::declare_lint! {
    /// ## What it does
    /// Finds user chains that no packet enters: nothing jumps to them, or only rules that never
    /// run do.
    ///
    /// ## Why is this bad?
    /// The chain's rules look like part of the firewall but do nothing; often the jump to it
    /// was lost in an edit, or sits after a final `-j DROP`.
    ///
    /// ## Example
    /// ```text
    /// :WEB - [0:0]
    /// -A WEB -p tcp --dport 443 -j ACCEPT
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// :WEB - [0:0]
    /// -A INPUT -j WEB
    /// -A WEB -p tcp --dport 443 -j ACCEPT
    /// ```
    pub static LINT = "IPT202", "unreached-chain", Suspicious, check;
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (t, table) in cx.ruleset.tables.iter().enumerate() {
        let graph = &cx.graphs[t];
        let unreached: Vec<usize> =
            (0..table.chains.len()).filter(|&c| !table.chains[c].is_builtin() && graph.chain_hooks(c) == 0).collect();
        if unreached.is_empty() {
            continue;
        }
        let mut jumped_to = vec![false; table.chains.len()];
        for rule in table.chains.iter().flat_map(|ch| &ch.rules) {
            if let Some(to) = rule.target.kind.chain().and_then(|name| cx.chain_index(t, name)) {
                jumped_to[to] = true;
            }
        }
        for c in unreached {
            let chain = &table.chains[c];
            let jumped = jumped_to[c];
            let why = if jumped { "only rules that never run jump to it" } else { "no rule jumps to it" };
            found.push(
                Finding::new(None, chain.span, format!("no packet enters chain `{}`", chain.name), why)
                    .help(format!("jump to it (`-j {}`) from a chain packets go through, or remove it", chain.name)),
            );
        }
    }
}
