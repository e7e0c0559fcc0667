use crate::lint::{Context, Finding};
use crate::model::{Hook, TableName};

crate::declare_lint! {
    /// ## What it does
    /// Finds a family whose `nat` and `security` tables both have rules on INPUT.
    ///
    /// ## Why is this bad?
    /// The two iptables backends run them in a different order. iptables-legacy registers
    /// the security table at priority 50, before nat's INPUT (SNAT) chain at 100;
    /// iptables-nft gives its security chains priority 150, after nat (seen in a kernel
    /// trace: `fixtures/explain/security-input-order.rules`). An SNAT in nat INPUT is then
    /// seen by the security rules on one backend and not on the other, and a drop in
    /// security INPUT comes before or after nat's rules run. The same file does different
    /// things on hosts that differ only in which `iptables` they have.
    ///
    /// `ipt explain --backend nft` and `--backend legacy` show a packet's path under each.
    ///
    /// ## Example
    /// ```text
    /// *nat
    /// -A INPUT -s 192.0.2.0/24 -j SNAT --to-source 192.0.2.1
    /// *security
    /// -A INPUT -s 192.0.2.1 -j SECMARK --selctx system_u:object_r:ssh_packet_t:s0
    /// ```
    ///
    /// ## Use instead
    /// Keep what one chain decides independent of the other (here, match the original source
    /// in security INPUT, or do the SNAT elsewhere), or state which backend the file is for.
    pub static LINT = "IPT601", "input-order-by-backend", Portability, check;
}

fn check(cx: &Context<'_>, found: &mut Vec<Finding>) {
    for (s, security) in cx.ruleset.tables.iter().enumerate().filter(|(_, t)| t.name == TableName::Security) {
        let Some(nat) = cx.ruleset.table(security.family, TableName::Nat) else { continue };
        let input = |t: &crate::model::Table| t.chains.iter().position(|c| c.hook() == Some(Hook::Input));
        let (Some(sc), Some(nc)) = (input(security), input(nat)) else { continue };
        let (sec_chain, nat_chain) = (&security.chains[sc], &nat.chains[nc]);
        let (Some(sec_rule), Some(nat_rule)) = (sec_chain.rules.first(), nat_chain.rules.first()) else { continue };
        found.push(
            Finding::new(
                Some(crate::lint::RuleAt { table: s, chain: sc, rule: 0 }),
                sec_rule.span,
                "`security INPUT` runs before `nat INPUT` with iptables-legacy and after it with iptables-nft",
                "its place among INPUT's tables depends on the backend",
            )
            .related(nat_rule.span, "nat INPUT also has rules")
            .help("keep these chains independent of each other, or compare `ipt explain --backend nft` and `--backend legacy`"),
        );
    }
}
