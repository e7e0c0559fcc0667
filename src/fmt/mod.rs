//! Printing the model as canonical iptables-save text: the option order and spelling
//! `iptables-save` itself prints (`-p tcp -m tcp --dport 22`, `-s 10.0.0.1/32`, chains sorted),
//! with the dump's own `#` lines kept where they were attached.

use crate::model::{Chain, Rule, Ruleset, Table};

/// Prints a whole ruleset.
pub fn ruleset(ruleset: &Ruleset) -> String {
    let mut out = String::with_capacity(ruleset.rule_count() * 96);
    let mut comments = ruleset.comments.iter().peekable();
    for (i, t) in ruleset.tables.iter().enumerate() {
        while let Some((_, text)) = comments.next_if(|(at, _)| *at <= i) {
            comment(&mut out, text);
        }
        table(&mut out, t);
    }
    for (_, text) in comments {
        comment(&mut out, text);
    }
    out
}

fn comment(out: &mut String, text: &str) {
    out.push('#');
    out.push_str(text);
    out.push('\n');
}

/// Prints one table section, `*name` to `COMMIT`.
pub fn table(out: &mut String, table: &Table) {
    out.push('*');
    out.push_str(table.name.as_str());
    out.push('\n');
    for chain in &table.chains {
        for text in chain.comments() {
            comment(out, text);
        }
        declaration(out, chain);
    }
    for chain in &table.chains {
        for r in &chain.rules {
            for text in r.comments() {
                comment(out, text);
            }
            rule(out, &chain.name, r);
            out.push('\n');
        }
    }
    for text in &table.comments {
        comment(out, text);
    }
    out.push_str("COMMIT\n");
}

/// `:NAME POLICY [p:b]`, or `:NAME - [0:0]` for a user chain.
pub fn declaration(out: &mut String, chain: &Chain) {
    use std::fmt::Write;
    let policy = chain.policy().map_or("-", |p| p.as_str());
    let counters = if chain.is_builtin() { chain.counters() } else { Default::default() };
    let _ = writeln!(out, ":{} {} [{}:{}]", chain.name, policy, counters.packets, counters.bytes);
}

/// `-A CHAIN ...` without the newline, with `[p:b] ` before it when the rule has counters.
pub fn rule(out: &mut String, chain: &str, rule: &Rule) {
    use std::fmt::Write;
    if let Some(c) = rule.counters() {
        let _ = write!(out, "[{}:{}] ", c.packets, c.bytes);
    }
    out.push_str("-A ");
    out.push_str(chain);
    rule_spec(out, rule);
}

/// Everything after `-A CHAIN`: addresses, interfaces, protocol, matches, target.
pub fn rule_spec(out: &mut String, rule: &Rule) {
    if let Some(src) = &rule.src {
        src.save(out, "-s", &src.value);
    }
    if let Some(dst) = &rule.dst {
        dst.save(out, "-d", &dst.value);
    }
    if let Some(i) = rule.in_iface() {
        i.save(out, "-i", i.value);
    }
    if let Some(o) = rule.out_iface() {
        o.save(out, "-o", o.value);
    }
    if let Some(p) = &rule.proto {
        p.save(out, "-p", p.value);
    }
    if let Some(f) = rule.fragment() {
        if f.invert {
            out.push_str(" !");
        }
        out.push_str(" -f");
    }
    for m in &rule.matches {
        out.push_str(" -m ");
        out.push_str(m.kind.name());
        m.kind.save(out);
    }
    rule.target.kind.save(out);
}
