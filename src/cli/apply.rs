//! `ipt apply`.

use std::io::Write;

use super::Status;
use super::args::{ApplyArgs, WatchdogArgs};
use super::output::Output;

#[cfg(not(feature = "netlink"))]
pub fn run(_args: &ApplyArgs, _out: &Output) -> Status {
    let _ = writeln!(
        std::io::stderr(),
        "ipt apply needs the cargo feature `netlink` (apt-get install libnftnl-dev libmnl-dev pkg-config, then \
         cargo install --features netlink); meanwhile: ipt translate FILE | nft -f -"
    );
    Status::Trouble
}

/// `ipt confirm`: keeps the new ruleset of every `ipt apply --confirm` waiting on this host.
#[cfg(feature = "netlink")]
pub fn confirm_command() -> Status {
    let mut err = std::io::stderr().lock();
    match crate::apply::confirm::confirm_waiting() {
        Ok(pids) if pids.is_empty() => {
            let _ = writeln!(err, "no ipt apply --confirm is waiting on this host");
            Status::Findings
        }
        Ok(pids) => {
            for pid in pids {
                let _ = writeln!(err, "confirmed: ipt apply (process {pid}) keeps its new ruleset");
            }
            Status::Clean
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "error: cannot reach the waiting applies in {}: {e}",
                crate::apply::confirm::run_dir().display()
            );
            Status::Trouble
        }
    }
}

#[cfg(not(feature = "netlink"))]
pub fn confirm_command() -> Status {
    let _ = writeln!(std::io::stderr(), "ipt confirm needs the cargo feature `netlink`, as ipt apply does");
    Status::Trouble
}

/// `ipt __rollback-watchdog FILE MS` (started by `ipt apply --confirm`).
#[cfg(feature = "netlink")]
pub fn watchdog(args: &WatchdogArgs) -> Status {
    match crate::apply::watchdog::run(&args.file, args.limit_ms) {
        0 => Status::Clean,
        _ => Status::Trouble,
    }
}

#[cfg(not(feature = "netlink"))]
pub fn watchdog(_args: &WatchdogArgs) -> Status {
    Status::Trouble
}

#[cfg(feature = "netlink")]
pub fn run(args: &ApplyArgs, out: &Output) -> Status {
    use super::args::{NftFamilyArg, TranslateArgs, TranslateFormat};
    use crate::apply::{ApplyError, Fault, Outcome, Plan, SendError, Snapshot, apply, commit_race_table};
    use crate::lockout;
    use crate::source::Span;

    if args.confirm.is_some() && args.files.iter().any(|f| f.as_os_str() == "-") {
        let _ = writeln!(
            std::io::stderr(),
            "error: --confirm reads the operator's answer from standard input: give the dump as a file, not `-`"
        );
        return Status::Trouble;
    }

    let targs = TranslateArgs {
        files: args.files.clone(),
        format: TranslateFormat::Nft,
        family: args.family.map(|f| match f {
            NftFamilyArg::Ip => NftFamilyArg::Ip,
            NftFamilyArg::Ip6 => NftFamilyArg::Ip6,
            NftFamilyArg::Inet => NftFamilyArg::Inet,
        }),
        table_prefix: args.table_prefix.clone(),
        optimize: false,
        no_optimize: args.no_optimize,
        stats: false,
    };
    let sessions = match sessions(args) {
        Ok(s) => s,
        Err(e) => {
            out.error(&e);
            return Status::Trouble;
        }
    };
    let (files, script) = match super::translate::script(&targs, out) {
        Ok(x) => x,
        Err(status) => return status,
    };
    let sources: Vec<crate::source::Source> = files.iter().map(|(s, _)| s.clone()).collect();
    let mut err = std::io::stderr().lock();
    let place = |o: Option<crate::nft::ir::Origin>| -> String {
        let Some(o) = o else { return "(ipt's own table or chain)".into() };
        let Some(source) = sources.get(o.input) else { return String::new() };
        let line = o.line.0;
        if line == 0 {
            // the rules ipt adds itself (an inet table's dispatch to each family's chains)
            return format!("{}: (a rule ipt adds for this file's tables)", source.name());
        }
        let text = source.text().lines().nth(line.saturating_sub(1) as usize).unwrap_or_default();
        format!("{}:{line}: {text}", source.name())
    };
    // a problem on an iptables rule is shown on its line, as the other commands show theirs;
    // one on a rule or chain ipt adds itself, in words
    let report = |origin: Option<crate::nft::ir::Origin>, problem: &dyn Fn(Span) -> ApplyError, words: &str| {
        let line = origin.and_then(|o| Some((sources.get(o.input)?, o.line.0)));
        match line.and_then(|(source, line)| Some((source, source.line_span(line).filter(|_| line > 0)?))) {
            Some((source, span)) => out.diagnostics([&crate::diag::Diagnostic::new(source, problem(span))]),
            None => {
                let _ = writeln!(std::io::stderr(), "error: {}\n  {words}", place(origin));
            }
        }
    };
    let plan = match Plan::new(&script) {
        Ok(p) => p,
        Err(refusals) => {
            for r in &refusals {
                let (fragment, table, chain) = (r.fragment.clone(), r.table.clone(), r.chain.clone());
                report(
                    r.origin,
                    &|span| ApplyError::NotBuilt {
                        span,
                        fragment: fragment.clone(),
                        table: table.clone(),
                        chain: chain.clone(),
                    },
                    &format!(
                        "in table {}, chain {}: `{}` is not supported by ipt apply yet; use `ipt translate | nft -f -`",
                        r.table, r.chain, r.fragment
                    ),
                );
            }
            let _ = writeln!(err, "not applied: {} rule(s) ipt apply cannot build yet (nothing sent)", refusals.len());
            return Status::Findings;
        }
    };
    // the lockout guard: before anything is sent
    let mut status = Status::Clean;
    if !sessions.is_empty() {
        let families: &[crate::model::Family] = match args.family {
            Some(NftFamilyArg::Ip) => &[crate::model::Family::Ipv4],
            Some(NftFamilyArg::Ip6) => &[crate::model::Family::Ipv6],
            _ => &[crate::model::Family::Ipv4, crate::model::Family::Ipv6],
        };
        let inputs: Vec<lockout::Input<'_>> = files
            .iter()
            .filter(|(_, f)| f.ruleset.tables.iter().any(|t| families.contains(&t.family)))
            .map(|(source, f)| lockout::Input { source, ruleset: &f.ruleset })
            .collect();
        let report = lockout::check(&inputs, &sessions, &host());
        for note in &report.notes {
            let _ = writeln!(err, "note: {note}");
        }
        let level = if args.force { "warning" } else { "error" };
        for threat in &report.threats {
            let _ = writeln!(err, "{level}: {threat}");
        }
        if report.refuses() {
            if args.force {
                let _ = writeln!(err, "warning: the new ruleset may cut off a kept session; applying anyway (--force)");
            } else if args.dry_run || args.check {
                let _ = writeln!(err, "the lockout guard would refuse this ruleset (--force applies it anyway)");
                status = Status::Findings;
            } else {
                let _ = writeln!(
                    err,
                    "not applied: the new ruleset would cut off a kept session (nothing sent); --force applies it anyway"
                );
                return Status::Findings;
            }
        }
    }
    let summary = plan.summary();
    if args.dry_run {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "would send one batch replacing {}:", summary.tables.join(", "));
        for (kind, n) in &summary.messages {
            let _ = writeln!(stdout, "  {n:>7} {kind}");
        }
        return status;
    }
    let applied = plan.tables();
    let fault = Fault::from_env();
    let mut attempts = 0;
    let (result, snapshot) = loop {
        // --confirm: ipt's tables as they are now, for the rollback; the apply then carries the
        // generation they were read at, so that nothing can commit in between unnoticed
        let snapshot = match args.confirm.map(|_| Snapshot::take(&applied)) {
            None => None,
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => {
                let _ = writeln!(err, "not applied: cannot read ipt's tables as they are, for the rollback: {e}");
                return Status::Trouble;
            }
        };
        if fault == Some(Fault::Race) && attempts == 0 && snapshot.is_some() {
            let _ = commit_race_table();
        }
        let result = apply(&plan, args.check, fault, snapshot.as_ref().map(|s| s.generation));
        if matches!(result, Err(SendError::Raced)) && attempts < 3 {
            attempts += 1;
            let _ =
                writeln!(err, "note: the ruleset changed while ipt read it (nothing was applied); reading it again");
            continue;
        }
        break (result, snapshot);
    };
    match result {
        Ok(Outcome::Applied) => {
            let n: usize = summary.messages.values().sum();
            let _ = writeln!(err, "applied {} in one transaction ({n} messages)", summary.tables.join(", "));
            match (snapshot, args.confirm) {
                (Some(snapshot), Some(seconds)) => confirm(&snapshot, &applied, seconds, &mut err),
                _ => Status::Clean,
            }
        }
        Ok(Outcome::Checked) => {
            let _ = writeln!(err, "checked: the kernel accepts the batch (nothing changed)");
            status
        }
        Err(SendError::Refused { errors, lost }) => {
            // a rule's set refused, its elements and the rule itself fail too: the first says why
            let mut shown = Vec::new();
            for e in &errors {
                if e.origin.is_some() && shown.contains(&e.origin) {
                    continue;
                }
                shown.push(e.origin);
                let reason = e.message();
                report(
                    e.origin,
                    &|span| ApplyError::KernelRefused { span, reason: reason.clone() },
                    &format!("the kernel refused it: {reason}"),
                );
            }
            if lost {
                let _ = writeln!(err, "error: some of the kernel's answers were lost (receive buffer overflow)");
            }
            let _ = writeln!(err, "not applied: the kernel refused the batch and rolled it back (nothing changed)");
            Status::Findings
        }
        Err(e @ SendError::Raced) => {
            let _ = writeln!(err, "not applied: {e} (the ruleset kept changing; try again)");
            Status::Trouble
        }
        Err(e @ SendError::Socket(_)) => {
            let _ = writeln!(err, "not applied: {e}");
            Status::Trouble
        }
    }
}

/// `--confirm`: waits for the operator's "yes"; anything else puts `snapshot` back.
#[cfg(feature = "netlink")]
fn confirm(
    snapshot: &crate::apply::Snapshot,
    applied: &[crate::apply::TableId],
    seconds: u64,
    err: &mut std::io::StderrLock<'_>,
) -> Status {
    use crate::apply::confirm::{Answer, Channel, run_dir, wait};
    use crate::apply::watchdog::{self, Report, Watchdog};
    use crate::apply::{rollback_batch, send_rollback};

    // another session may confirm: `ipt confirm`, over a new connection, proves it works
    let channel = match Channel::open() {
        Ok(c) => Some(c),
        Err(e) => {
            let _ = writeln!(
                err,
                "warning: `ipt confirm` cannot reach this apply (no FIFO in {}: {e})",
                run_dir().display()
            );
            None
        }
    };
    let elsewhere = if channel.is_some() { " (or run `ipt confirm` from a new session)" } else { "" };
    let _ = writeln!(
        err,
        "can you still open new connections to this host? type \"yes\" and Enter within {seconds} s{elsewhere} to \
         keep the new ruleset; anything else, or no answer, rolls back"
    );
    let batch = rollback_batch(snapshot, applied);
    // a process of its own holds the rollback: it happens even if ipt is killed while it waits
    let limit = std::time::Duration::from_secs(seconds);
    let watchdog = match Watchdog::start(&batch, limit + watchdog::MARGIN) {
        Ok(w) => Some(w),
        Err(e) => {
            let _ = writeln!(
                err,
                "warning: cannot start the rollback watchdog ({e}); ipt rolls back itself, but not if it is killed"
            );
            None
        }
    };
    let answer = match wait(limit, channel.as_ref()) {
        Ok(Answer::Confirmed | Answer::ConfirmedElsewhere) => None,
        Ok(answer) => Some(answer.to_string()),
        Err(e) => Some(format!("cannot wait for the answer ({e})")),
    };
    let result = match (watchdog, &answer) {
        (Some(w), _) => w.finish(answer.is_none()),
        (None, None) => Report::Kept,
        (None, Some(_)) => match send_rollback(&batch) {
            Ok(_) => Report::RolledBack,
            Err(e) => Report::Failed(e.detail()),
        },
    };
    let family = |t: &crate::apply::TableId| match i32::from(t.family) {
        libc::NFPROTO_IPV4 => "ip",
        libc::NFPROTO_IPV6 => "ip6",
        _ => "inet",
    };
    let mut before: Vec<String> =
        snapshot.existing.iter().map(|t| format!("{} {} as it was", family(t), t.name)).collect();
    before.extend(
        applied
            .iter()
            .filter(|t| !snapshot.existing.contains(t))
            .map(|t| format!("{} {} deleted (it did not exist)", family(t), t.name)),
    );
    let before = before.join(", ");
    let confirmed = answer.is_none();
    let answer = answer.unwrap_or_else(|| "confirmed, too late".into());
    match result {
        Report::Kept => {
            let _ = writeln!(err, "confirmed: the new ruleset stays");
            Status::Clean
        }
        Report::RolledBack => {
            let n = snapshot.rollback_len(applied);
            let _ = writeln!(err, "rolled back ({answer}): {before}; in one transaction ({n} messages)");
            Status::Findings
        }
        Report::Failed(why) if confirmed => {
            let _ = writeln!(
                err,
                "warning: the rollback watchdog did not answer as expected ({why}); the new ruleset should stay: \
                 check with `nft list ruleset`"
            );
            Status::Trouble
        }
        Report::Failed(why) => {
            let _ = writeln!(err, "error: the rollback failed ({answer}): {why}\nthe NEW ruleset is still in place");
            Status::Trouble
        }
    }
}

/// The sessions the lockout guard keeps: `SSH_CONNECTION` (when set and not empty) and each
/// `--keep`.
#[cfg(feature = "netlink")]
fn sessions(args: &ApplyArgs) -> Result<Vec<crate::lockout::Session>, crate::lockout::SessionError> {
    use crate::lockout::Session;
    let mut sessions = Vec::new();
    if let Ok(text) = std::env::var("SSH_CONNECTION")
        && !text.trim().is_empty()
    {
        sessions.push(Session::parse_ssh_connection(&text)?);
    }
    for keep in &args.keep {
        sessions.push(Session::parse_keep(keep)?);
    }
    Ok(sessions)
}

/// This host's addresses and routes, for the interface a client is reached by (none when `ip`
/// cannot run: interface tests are then undecided, and a drop that depends on one is reported).
#[cfg(feature = "netlink")]
fn host() -> crate::lockout::Host {
    use super::explain::{host_addresses, run_tool};
    let mut routes = Vec::new();
    for family in ["-4", "-6"] {
        if let Ok(text) = run_tool("ip", &[family, "route"]) {
            routes.extend(crate::explain::routes::parse(&text).unwrap_or_default());
        }
    }
    crate::lockout::Host { local: host_addresses().unwrap_or_default(), routes }
}
