//! `ipt explain`.

use std::io::{IsTerminal, Write};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::Command;

use super::args::{BackendArg, ExplainArgs, Format};
use super::output::Output;
use super::{Status, read_source};
use crate::diag::{Severity, Tally};
use crate::explain::{Ask, Backend, Query, explain, render, routes};
use crate::load::{LoadOptions, load};
use crate::model::Family;
use crate::source::Source;

/// Why the question could not be answered.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum ExplainFailure {
    #[error("{0}")]
    #[diagnostic(code(ipt::explain::bad_question), help("see `ipt explain --help` for the options and their defaults"))]
    Question(String),

    #[error("cannot read the live host's rules: {0}")]
    #[diagnostic(
        code(ipt::explain::no_live_rules),
        help("give a dump (`ipt explain rules.v4 ...`), pipe one in, or run as root where iptables-save works")
    )]
    Live(String),

    #[error("cannot read the routes in `{path}`: {why}")]
    #[diagnostic(code(ipt::explain::bad_routes), help("give the output of `ip route` (or `ip -6 route`, `route -n`)"))]
    Routes { path: String, why: String },

    #[error("{0}")]
    #[diagnostic(code(ipt::explain::cannot_explain))]
    Explain(String),
}

pub fn run(args: &ExplainArgs, out: &Output) -> Status {
    match answer(args, out) {
        Ok(status) => status,
        Err(failure) => {
            out.error(&failure);
            Status::Trouble
        }
    }
}

fn answer(args: &ExplainArgs, out: &Output) -> Result<Status, ExplainFailure> {
    let ipv6 = args.src.or(args.dst).is_some_and(|a| a.is_ipv6());
    let live = args.file.is_none() && !stdin_has_input();
    let source = match &args.file {
        Some(path) => match read_source(path) {
            Ok(s) => s,
            Err(e) => {
                out.error(&e);
                return Ok(Status::Trouble);
            }
        },
        None if !live => match read_source(Path::new("-")) {
            Ok(s) => s,
            Err(e) => {
                out.error(&e);
                return Ok(Status::Trouble);
            }
        },
        None => {
            let tool = if ipv6 { "ip6tables-save" } else { "iptables-save" };
            Source::new(tool, run_tool(tool, &[]).map_err(ExplainFailure::Live)?)
        }
    };
    let family = args.input.family.map(Into::into);
    let mut loaded = load(&source, &LoadOptions { family, ..Default::default() });
    let asked = if ipv6 { Family::Ipv6 } else { Family::Ipv4 };
    let mut read_as = None;
    if !loaded.loads() && family.is_none() && args.src.or(args.dst).is_some() {
        // a name like `before6.rules` may have guessed the other family: the question's
        // addresses say which it is
        let again = load(&source, &LoadOptions { family: None, name_family: Some(asked) });
        if again.loads() {
            loaded = again;
            read_as = Some(asked);
        }
    }
    let tally = Tally::of(&loaded.diagnostics);
    if tally.errors > 0 {
        out.diagnostics(loaded.diagnostics.iter().filter(|d| d.severity() == Severity::Error));
        let _ = writeln!(std::io::stderr(), "{}: does not load ({tally}): nothing to explain", source.name());
        return Ok(Status::Findings);
    }
    let mut local = args.local.clone();
    let mut route_list = Vec::new();
    if let Some(path) = &args.routes {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ExplainFailure::Routes { path: path.display().to_string(), why: e.to_string() })?;
        route_list = routes::parse(&text).map_err(|bad| ExplainFailure::Routes {
            path: path.display().to_string(),
            why: format!("line {} is not a route: `{}`", bad.line, bad.text),
        })?;
    }
    if live {
        // the host's own addresses and routes, unless the question gives them
        if local.is_empty() {
            local = host_addresses().map_err(ExplainFailure::Live)?;
        }
        if args.routes.is_none() {
            let family = if ipv6 { "-6" } else { "-4" };
            let text = run_tool("ip", &[family, "route"]).map_err(ExplainFailure::Live)?;
            route_list = routes::parse(&text).unwrap_or_default();
        }
    }
    let ask = Ask {
        src: args.src,
        dst: args.dst,
        proto: args.proto.clone(),
        sport: args.sport,
        dport: args.dport,
        icmp_type: args.icmp_type.clone(),
        tcp_flags: args.tcp_flags.clone(),
        in_iface: args.in_iface.clone(),
        out_iface: args.out_iface.clone(),
        state: args.state,
        mark: args.mark,
        ttl: args.ttl,
        local,
        routes: route_list,
        assume: args.assume.iter().copied().collect(),
        backend: match args.backend {
            BackendArg::Nft => Backend::Nft,
            BackendArg::Legacy => Backend::Legacy,
        },
    };
    let mut query = Query::new(ask).map_err(|e| ExplainFailure::Question(e.to_string()))?;
    if let Some(family) = read_as {
        let name = if family == Family::Ipv6 { "IPv6" } else { "IPv4" };
        query
            .assumed
            .push(format!("{} is read as {name}, the packet's family (its name suggests the other)", source.name()));
    }
    let explanation = explain(&loaded.ruleset, &query).map_err(|e| ExplainFailure::Explain(e.to_string()))?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Human => {
            let _ = stdout.write_all(render(&explanation).as_bytes());
        }
        Format::Json => {
            let _ = serde_json::to_writer_pretty(&mut stdout, &explanation);
            let _ = writeln!(stdout);
        }
    }
    super::leak(loaded);
    Ok(Status::Clean)
}

/// Whether standard input brings a dump: a pipe, a file or a socket (not a terminal, nor
/// `/dev/null`, which mean "no input": then the live host is asked).
fn stdin_has_input() -> bool {
    if std::io::stdin().is_terminal() {
        return false;
    }
    match std::fs::metadata("/proc/self/fd/0") {
        Ok(m) => {
            let t = m.file_type();
            t.is_fifo() || t.is_file() || t.is_socket()
        }
        // no /proc: trust that what is not a terminal is input
        Err(_) => true,
    }
}

/// Runs a tool of the host and returns its output.
pub(super) fn run_tool(tool: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(tool).args(args).output().map_err(|e| format!("`{tool}` cannot run: {e}"))?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        return Err(format!("`{tool}` failed: {}", err.trim()));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The host's addresses, from `ip -o addr`.
pub(super) fn host_addresses() -> Result<Vec<std::net::IpAddr>, String> {
    let text = run_tool("ip", &["-o", "addr", "show"])?;
    let mut found = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(i) = words.iter().position(|w| *w == "inet" || *w == "inet6")
            && let Some(addr) = words.get(i + 1).and_then(|a| a.split('/').next())
            && let Ok(addr) = addr.parse()
        {
            found.push(addr);
        }
    }
    Ok(found)
}
