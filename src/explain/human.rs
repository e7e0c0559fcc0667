//! The trace for people: hook by hook, table by table, each rule tested with its line and why
//! it matched or not, then the fate.

use std::fmt::Write;

use super::{Event, Explanation};

/// Runs of more than this many non-matching rules in a row are shortened.
const LONG_RUN: usize = 24;
/// How many of a shortened run's first and last rules are shown.
const SHOWN: usize = 8;

/// Which events a shortened run hides.
fn hidden_misses(events: &[Event]) -> Vec<bool> {
    let mut hidden = vec![false; events.len()];
    let miss = |e: &Event| matches!(e, Event::Rule(r) if !r.matched);
    let mut k = 0;
    while k < events.len() {
        if !miss(&events[k]) {
            k += 1;
            continue;
        }
        let start = k;
        while k < events.len() && miss(&events[k]) {
            k += 1;
        }
        if k - start > LONG_RUN {
            for h in &mut hidden[start + SHOWN..k - SHOWN] {
                *h = true;
            }
        }
    }
    hidden
}

/// Renders an explanation as text.
pub fn render(e: &Explanation) -> String {
    let mut out = String::new();
    let p = &e.packet;
    let _ = write!(out, "packet: {} {}", p.family, p.proto);
    let addr = |a: &Option<String>, port: Option<u16>| {
        let a = a.clone().unwrap_or_else(|| "?".into());
        match port {
            Some(port) => format!("{a} port {port}"),
            None => a,
        }
    };
    let _ = write!(out, " {} -> {}", addr(&p.src, p.sport), addr(&p.dst, p.dport));
    if let Some(flags) = &p.tcp_flags {
        let _ = write!(out, ", flags {}", if flags.is_empty() { "none".to_string() } else { flags.join(",") });
    }
    if let Some(t) = p.icmp_type {
        let _ = write!(out, ", ICMP type {t} code {}", p.icmp_code.unwrap_or(0));
    }
    let _ = write!(out, ", state {}", p.state);
    if p.mark != 0 {
        let _ = write!(out, ", mark {:#x}", p.mark);
    }
    if let Some(i) = &p.in_iface {
        let _ = write!(out, ", in on {i}");
    }
    if let Some(o) = &p.out_iface {
        let _ = write!(out, ", out on {o}");
    }
    out.push('\n');
    for a in &e.assumed {
        let _ = writeln!(out, "assumed: {a}");
    }
    let many = e.paths.len() > 1;
    for (n, path) in e.paths.iter().enumerate() {
        out.push('\n');
        if many {
            let _ = write!(out, "path {} of {}", n + 1, e.paths.len());
            let choices: Vec<String> = path
                .choices
                .iter()
                .map(|c| format!("line {} {}", c.line, if c.holds { "matches" } else { "does not match" }))
                .collect();
            let _ = writeln!(out, " (if {}):", choices.join(", and "));
        }
        let _ = writeln!(out, "hooks: {}", path.hooks.join(", "));
        let mut hook = "";
        // long runs of rules that do not match (a dispatch chain of thousands) are shortened:
        // the first and last few are shown, the JSON has them all
        let hidden = hidden_misses(&path.events);
        let mut skipped = 0usize;
        for (k, event) in path.events.iter().enumerate() {
            if hidden[k] {
                skipped += 1;
                continue;
            }
            if skipped > 0 {
                let _ = writeln!(out, "    ... {skipped} more rules that do not match (`--format json` lists them)");
                skipped = 0;
            }
            if let Event::Chain { hook: h, .. } | Event::Skip { hook: h, .. } = event
                && *h != hook
            {
                hook = h;
                let _ = writeln!(out, "{h}");
            }
            match event {
                Event::Chain { table, chain, in_iface, out_iface, .. } => {
                    let _ = write!(out, "  {table} {chain}");
                    let ifaces: Vec<String> = [("in", in_iface), ("out", out_iface)]
                        .iter()
                        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} {v}")))
                        .collect();
                    if !ifaces.is_empty() {
                        let _ = write!(out, " ({})", ifaces.join(", "));
                    }
                    out.push('\n');
                }
                Event::Skip { table, why, .. } => {
                    let _ = writeln!(out, "  {table}: skipped, {why}");
                }
                Event::Rule(r) => {
                    let mark = if r.matched { "match" } else { "no   " };
                    let _ = writeln!(out, "    {mark} line {}: {}", r.line, r.rule);
                    for c in &r.conditions {
                        let holds = match c.holds {
                            Some(true) => "holds",
                            Some(false) => "fails",
                            None => "undecided",
                        };
                        let _ = writeln!(out, "           {} {holds}: {}", c.test, c.why);
                    }
                    if r.assumed {
                        let _ = writeln!(
                            out,
                            "           (this path assumes it {})",
                            if r.matched { "matches" } else { "does not" }
                        );
                    }
                    if let Some(v) = &r.verdict {
                        let nat: Vec<String> = r.nat.iter().map(|(k, v)| format!("{k} {v}")).collect();
                        if nat.is_empty() {
                            let _ = writeln!(out, "           -> {v}");
                        } else {
                            let _ = writeln!(out, "           -> {v}: {}", nat.join(", "));
                        }
                    }
                }
                Event::Return { chain, .. } => {
                    let _ = writeln!(out, "    end of {chain}: back to the caller");
                }
                Event::Policy { chain, policy, .. } => {
                    let _ = writeln!(out, "    end of {chain}: policy {}", policy.to_uppercase());
                }
            }
        }
        let f = &path.final_packet;
        let _ = write!(out, "fate: {}", path.fate.as_str());
        let end = |a: &Option<String>, port: Option<u16>| {
            let a = a.clone().unwrap_or_else(|| "?".into());
            port.map_or(a.clone(), |p| format!("{a} port {p}"))
        };
        let _ = writeln!(out, " ({} -> {}, mark {:#x})", end(&f.src, f.sport), end(&f.dst, f.dport), f.mark);
        for note in &path.notes {
            let _ = writeln!(out, "note: {note}");
        }
    }
    out
}
