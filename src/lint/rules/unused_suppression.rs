use crate::lint::{Context, Finding};

crate::declare_lint! {
    /// ## What it does
    /// Reports a `# ipt: allow(...)` comment that silences no finding on the rule after it.
    ///
    /// ## Why is this bad?
    /// A suppression outlives the problem it hid, or sits before the wrong rule, and then hides
    /// the next real finding there.
    ///
    /// ## Example
    /// ```text
    /// # ipt: allow(log-without-prefix)
    /// -A INPUT -j LOG --log-prefix "in: "
    /// ```
    ///
    /// ## Use instead
    /// ```text
    /// -A INPUT -j LOG --log-prefix "in: "
    /// ```
    pub static LINT = "IPT001", "unused-suppression", Suspicious, check;
}

/// The runner finds unused suppressions itself, once every other lint has run.
fn check(_: &Context<'_>, _: &mut Vec<Finding>) {}
