//! The command line: `ipt check`, `ipt fmt`, `ipt parse`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::model::Family;

/// Compile and lint Linux firewall rules.
///
/// ipt reads iptables-save dumps (`/etc/iptables/rules.v4`, ufw's `*.rules`, what Docker or
/// kube-proxy leave on a host) into a typed model, checks them the way the kernel would, and
/// prints them back canonically. FILE may be `-` for standard input.
#[derive(Debug, Parser)]
#[command(name = "ipt", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that dumps would load, reporting every problem at once.
    ///
    /// Exit status: 0 when every file would load (warnings allowed), 1 when one would not,
    /// 2 when a file cannot be read or the arguments are wrong.
    ///
    /// Example: ipt check /etc/iptables/rules.v4 /etc/iptables/rules.v6
    Check(CheckArgs),

    /// Print dumps in canonical iptables-save form.
    ///
    /// The output is what iptables-save prints after loading the file: built-in chains in hook
    /// order and user chains by name, options in iptables-save's order and spelling
    /// (`-p tcp -m tcp --dport 22`, `-s 10.0.0.1/32`). `#` lines are kept before the chain or
    /// rule they precede.
    ///
    /// Exit status: 0 on success (with --check: when every file is already canonical), 1 when a
    /// file does not load (or, with --check, would change), 2 when a file cannot be read.
    ///
    /// Example: ipt fmt --check rules.v4
    Fmt(FmtArgs),

    /// Find mistakes that load but never match, lock someone out, or cost time.
    ///
    /// Each finding names its lint (`IPT301`, `ssh-lockout`); `ipt rule CODE` explains it.
    /// Levels come from `ipt.toml` (the nearest one above the file), then `--warn`, `--deny`
    /// and `--allow`. A file that would not load is reported as `ipt check` reports it.
    ///
    /// Exit status: 0 when no finding is at or above `--fail-on`, 1 otherwise, 2 when a file
    /// cannot be read or the arguments or configuration are wrong.
    ///
    /// Example: ipt lint --format github rules.v4 rules.v6
    Lint(LintArgs),

    /// Explain a lint (`ipt rule IPT301` or `ipt rule ssh-lockout`), or list them all.
    ///
    /// Example: ipt rule --list
    Rule(RuleArgs),

    /// Follow one packet through a ruleset: hooks, tables, chains, every rule tested and why,
    /// NAT, and its fate.
    ///
    /// FILE may be `-` (standard input). Without FILE, a ruleset piped on standard input is
    /// read; with neither, the live host's (`iptables-save` or `ip6tables-save`, its addresses
    /// from `ip addr` and its routes from `ip route`). Every default ipt takes is said in the
    /// output ("assumed: ...").
    ///
    /// Exit status: 0 when explained, 1 when the ruleset does not load, 2 for bad usage or
    /// unreadable input.
    ///
    /// Example: ipt explain rules.v4 --src 203.0.113.7 --dst 192.0.2.1 --dport 22 --in-iface eth0
    Explain(ExplainArgs),

    /// Compile dumps to one nft script that means exactly the same, and loads atomically.
    ///
    /// Each iptables table becomes an nft table named PREFIX + table (`ipt-filter`), with its
    /// built-in chains at the priority iptables uses, so the script replaces only ipt's own
    /// tables (`nft -f` creates, deletes and writes each one in one transaction) and touches
    /// nothing else, iptables-nft's tables included. A rule that has no exact nft form is an
    /// error naming the rule and the reason; then nothing is printed.
    ///
    /// Exit status: 0 when every rule was translated, 1 when a file does not load or a rule
    /// has no exact nft form, 2 when a file cannot be read.
    ///
    /// Example: ipt translate rules.v4 rules.v6 --family inet > ruleset.nft && nft -f ruleset.nft
    Translate(TranslateArgs),

    /// Apply dumps to this host's kernel through netlink, as one transaction (needs the cargo
    /// feature `netlink`).
    ///
    /// Translates as `ipt translate` does, then replaces ipt's own tables in one netlink batch:
    /// the kernel applies all of it or nothing. Every other table is left alone. `--check` asks
    /// the kernel to validate the batch and abort it; `--dry-run` only says what would be sent.
    ///
    /// Lockout guard: the operator's session (`SSH_CONNECTION`, `--keep ADDR:PORT`) is explained
    /// against the new ruleset first: its packets in, a new connection from the same client, and
    /// the replies out. A ruleset that drops any of them is refused (the rule is named) unless
    /// `--force`; `--check` and `--dry-run` report it too.
    ///
    /// `--confirm SECONDS`: ipt first reads its tables as they are, applies, then waits for
    /// "yes" on standard input; anything else puts the old tables back in one transaction. A
    /// watchdog process holds that rollback, so it happens even if ipt is killed.
    ///
    /// Exit status: 0 when applied (or checked, or confirmed), 1 when a file does not load, a
    /// rule cannot be translated or applied, the lockout guard refuses, the kernel refused the
    /// batch, or `--confirm` rolled back, 2 when a file or a session cannot be read, or a
    /// rollback failed.
    ///
    /// Example: ipt apply --check rules.v4 && ipt apply --confirm 60 rules.v4
    Apply(ApplyArgs),

    /// Keep the new ruleset of an `ipt apply --confirm` that is waiting on this host: run it
    /// from a new session (a new SSH connection that works is the proof the wait asks for).
    ///
    /// Exit status: 0 when an apply was confirmed, 1 when none is waiting, 2 when the run
    /// directory (`/run/ipt`, or `IPT_RUN_DIR`) cannot be read.
    ///
    /// Example: ssh root@host ipt confirm
    Confirm,

    /// Print the typed model of a dump as JSON, for tools.
    ///
    /// Example: ipt parse rules.v4 | jq '.tables[].chains[].name'
    Parse(ParseArgs),

    /// (Internal) `ipt apply --confirm`'s rollback watchdog: docs/apply.md.
    #[command(name = "__rollback-watchdog", hide = true)]
    RollbackWatchdog(WatchdogArgs),
}

/// The rollback watchdog's arguments: the batch file, and how long to wait.
#[derive(Debug, Args)]
pub struct WatchdogArgs {
    pub file: PathBuf,
    pub limit_ms: u64,
}

/// Options shared by the commands that read dumps.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Read every table as this family instead of guessing (from a `# Generated by
    /// ip6tables-save` line, the file name, or the addresses in the table).
    #[arg(long, value_enum)]
    pub family: Option<FamilyArg>,
}

#[derive(Debug, Args)]
pub struct TranslateArgs {
    /// Dumps to translate (an IPv4 and an IPv6 one together, for `--family inet`); `-` reads
    /// standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Output format: an nft script, or the same in libnftables' JSON (for `nft -j -f`).
    #[arg(long, value_enum, default_value_t = TranslateFormat::Nft)]
    pub format: TranslateFormat,

    /// The nft family: `ip` or `ip6` (only that family's tables), or `inet` (one table for
    /// both). Default: each dump in its own family.
    #[arg(long, value_enum)]
    pub family: Option<NftFamilyArg>,

    /// Put this before each table's name (`ipt-` gives `ipt-filter`, `ipt-nat`...).
    #[arg(long, value_name = "P", default_value = "ipt-")]
    pub table_prefix: String,

    /// Merge runs of rules into sets and verdict maps (the default).
    #[arg(long, overrides_with = "no_optimize")]
    pub optimize: bool,

    /// One nft rule per iptables rule.
    #[arg(long)]
    pub no_optimize: bool,

    /// Print, on standard error, rules before and after and how many rules a worst-case
    /// packet is tested against.
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Dumps to apply (an IPv4 and an IPv6 one together, for `--family inet`); `-` reads
    /// standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// The nft family, as for `ipt translate`.
    #[arg(long, value_enum)]
    pub family: Option<NftFamilyArg>,

    /// Put this before each table's name, as for `ipt translate`.
    #[arg(long, value_name = "P", default_value = "ipt-")]
    pub table_prefix: String,

    /// One nft rule per iptables rule.
    #[arg(long)]
    pub no_optimize: bool,

    /// Send the batch for validation only: the kernel checks every message, then aborts.
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,

    /// Print what would be sent (messages per kind, and the tables); open no socket.
    #[arg(long)]
    pub dry_run: bool,

    /// A session the new ruleset must keep: a client address and this host's port
    /// (`198.51.100.7:22`, `[2001:db8::7]:22`); repeatable. `SSH_CONNECTION` is kept too.
    #[arg(long, value_name = "ADDR:PORT")]
    pub keep: Vec<String>,

    /// Apply even when the lockout guard finds that the new ruleset drops a kept session.
    #[arg(long)]
    pub force: bool,

    /// Apply, then wait SECONDS for "yes" on standard input; anything else (no answer in time,
    /// another answer, SIGHUP, SIGINT, SIGTERM) puts ipt's tables back as they were, in one
    /// transaction.
    #[arg(long, value_name = "SECONDS", conflicts_with_all = ["check", "dry_run"],
          value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub confirm: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TranslateFormat {
    Nft,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NftFamilyArg {
    Ip,
    Ip6,
    Inet,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Dumps to check; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Leave warnings out of the output (errors are always shown).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Dumps to lint; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    pub format: LintFormat,

    /// Read lint levels from this file instead of the nearest `ipt.toml`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Report these lints (codes, names or categories) as warnings.
    #[arg(long, short = 'W', value_name = "LINT")]
    pub warn: Vec<String>,

    /// Report these lints as errors.
    #[arg(long, short = 'D', value_name = "LINT")]
    pub deny: Vec<String>,

    /// Do not run these lints.
    #[arg(long, short = 'A', value_name = "LINT")]
    pub allow: Vec<String>,

    /// The level from which a finding fails the run.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// Compiler-style messages with the rules involved.
    Human,
    /// One JSON document (schema in docs/json.md).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub shows the findings inline).
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Warning,
    Error,
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// A lint's code or name.
    #[arg(value_name = "LINT", required_unless_present = "list")]
    pub lint: Option<String>,

    /// List every lint: code, name, category, default level and summary.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Dumps to format; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    #[command(flatten)]
    pub input: InputArgs,

    /// Print nothing; exit 1 if any file is not in canonical form (for pre-commit hooks).
    #[arg(long, conflicts_with = "write")]
    pub check: bool,

    /// Rewrite the files in place.
    #[arg(long, short)]
    pub write: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The dump; `-` reads standard input. Omitted: standard input when it is a pipe, else the
    /// live host.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Source address (its family picks the IPv4 or IPv6 tables).
    #[arg(long, value_name = "ADDR")]
    pub src: Option<std::net::IpAddr>,

    /// Destination address. Omitted: this host.
    #[arg(long, value_name = "ADDR")]
    pub dst: Option<std::net::IpAddr>,

    /// Protocol: tcp, udp, icmp, icmpv6, or a name or number. Default: tcp (icmp with
    /// --icmp-type).
    #[arg(long, short = 'p', value_name = "PROTO")]
    pub proto: Option<String>,

    /// Source port. Default: 40000.
    #[arg(long, value_name = "N")]
    pub sport: Option<u16>,

    /// Destination port. Default: 80 (tcp), 53 (udp).
    #[arg(long, value_name = "N")]
    pub dport: Option<u16>,

    /// ICMP type, by number (`8`, `3/1`) or name (`echo-request`). Default: echo request.
    #[arg(long, value_name = "T")]
    pub icmp_type: Option<String>,

    /// TCP flags set, comma-separated (`SYN`, `SYN,ACK`, `none`). Default: SYN.
    #[arg(long, value_name = "FLAGS")]
    pub tcp_flags: Option<String>,

    /// The interface it arrives on. Default: where the route back to --src goes, else unknown.
    #[arg(long, value_name = "IF")]
    pub in_iface: Option<String>,

    /// The interface it leaves by. Default: from --routes, else unknown.
    #[arg(long, value_name = "IF")]
    pub out_iface: Option<String>,

    /// Conntrack state: new, established, related, invalid, untracked. Default: what conntrack
    /// gives a lone packet with these flags.
    #[arg(long, value_name = "STATE", value_parser = parse_state)]
    pub state: Option<crate::explain::CtBase>,

    /// The packet's mark when it arrives (`0x10`, `16`).
    #[arg(long, value_name = "M", value_parser = parse_mark)]
    pub mark: Option<u32>,

    /// TTL (IPv4) or hop limit (IPv6) as the packet starts out. Default: 64 (255 for IPv6
    /// neighbour discovery, 1 for MLD).
    #[arg(long, value_name = "N")]
    pub ttl: Option<u8>,

    /// An address of this host (repeatable). Default: the destination is this host's.
    #[arg(long, value_name = "ADDR")]
    pub local: Vec<std::net::IpAddr>,

    /// The host's routes, as `ip route` or `route -n` prints them.
    #[arg(long, value_name = "FILE")]
    pub routes: Option<PathBuf>,

    /// The outcome of an undecided test: `LINE=yes` or `LINE=no` (repeatable).
    #[arg(long, value_name = "LINE=yes|no", value_parser = parse_assume)]
    pub assume: Vec<(u32, bool)>,

    /// Which iptables the host runs (only the order of security and nat on INPUT differs).
    #[arg(long, value_enum, default_value_t = BackendArg::Nft)]
    pub backend: BackendArg,

    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    /// iptables-nft (nf_tables), the default of current distributions
    Nft,
    /// iptables-legacy (x_tables)
    Legacy,
}

fn parse_state(text: &str) -> Result<crate::explain::CtBase, String> {
    crate::explain::CtBase::parse(text)
        .ok_or_else(|| "one of new, established, related, invalid, untracked".to_string())
}

fn parse_mark(text: &str) -> Result<u32, String> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| "a number from 0 to 0xffffffff".to_string())
}

fn parse_assume(text: &str) -> Result<(u32, bool), String> {
    let bad = || "LINE=yes or LINE=no (the line of the rule in the input)".to_string();
    let (line, value) = text.split_once('=').ok_or_else(bad)?;
    let line: u32 = line.trim().parse().map_err(|_| bad())?;
    let holds = match value.trim() {
        "yes" | "true" | "match" => true,
        "no" | "false" | "nomatch" => false,
        _ => return Err(bad()),
    };
    Ok((line, holds))
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The dump; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Indent the JSON, for people.
    #[arg(long)]
    pub pretty: bool,

    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Compiler-style messages with the offending line and a label.
    Human,
    /// One JSON document (schema in docs/json.md).
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FamilyArg {
    /// iptables
    Ipv4,
    /// ip6tables
    Ipv6,
}

impl From<FamilyArg> for Family {
    fn from(f: FamilyArg) -> Family {
        match f {
            FamilyArg::Ipv4 => Family::Ipv4,
            FamilyArg::Ipv6 => Family::Ipv6,
        }
    }
}
