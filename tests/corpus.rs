//! The corpus tier: every dump in `../shared/corpus` (third-party files, used in place, never
//! copied here), compared with a real kernel in private network namespaces
//! (`cargo test --features corpus-tests --test corpus`, as root; `IPT_CORPUS` points elsewhere).

#[path = "tier/netns.rs"]
mod netns;
#[path = "tier/nft_json.rs"]
mod nft_json;
#[path = "tier/rng.rs"]
#[allow(dead_code, reason = "the kernel tier uses the rest")]
mod rng;
#[path = "tier/txlate.rs"]
mod txlate;

use std::path::{Path, PathBuf};

use ipt::diag::Severity;
use ipt::load::{LoadOptions, load};
use ipt::model::Family;
use ipt::source::Source;
use netns::{builtin_chains, kernel_load, kernel_load_with, require_kernel, same_place};

fn corpus() -> PathBuf {
    let dir = std::env::var_os("IPT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    assert!(
        dir.join("MANIFEST.tsv").is_file(),
        "the corpus is missing: set IPT_CORPUS to the directory holding MANIFEST.tsv (looked in {})",
        dir.display()
    );
    dir
}

struct Entry {
    path: String,
    format: String,
    family: String,
}

fn manifest() -> Vec<Entry> {
    let text = std::fs::read_to_string(corpus().join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (path, format, family) = (col("local_path"), col("format"), col("ip_family"));
    lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .map(|f| Entry { path: f[path].into(), format: f[format].into(), family: f[family].into() })
        .collect()
}

/// Every restore file of the corpus that loads: its entry, source and what it loads as.
fn loadable_restore_files() -> impl Iterator<Item = (Entry, Source, ipt::load::Loaded)> {
    manifest().into_iter().filter(|e| e.format == "restore").filter_map(|entry| {
        let text = String::from_utf8_lossy(&read(&entry)).into_owned();
        let source = Source::new(entry.path.clone(), text);
        let loaded = load(&source, &LoadOptions::default());
        loaded.loads().then_some((entry, source, loaded))
    })
}

fn read(entry: &Entry) -> Vec<u8> {
    std::fs::read(corpus().join(&entry.path)).unwrap_or_else(|e| panic!("{}: {e}", entry.path))
}

/// Files where ipt's verdict differs from the kernel's on purpose, or because the file depends
/// on this machine: (path, reason).
const EXCEPTIONS: &[(&str, &str)] = &[];

#[test]
fn restore_files_agree_with_the_kernel() {
    require_kernel();
    let mut failures = Vec::new();
    let mut compared = 0;
    for entry in manifest().iter().filter(|e| e.format == "restore") {
        let bytes = read(entry);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let family = if entry.family == "IPv6" { Family::Ipv6 } else { Family::Ipv4 };
        let source = Source::new(entry.path.clone(), text);
        let loaded = load(&source, &LoadOptions::default());
        for table in &loaded.ruleset.tables {
            if table.family != family {
                failures.push(format!("{}: ipt reads a {} table in an {family} file", entry.path, table.family));
            }
        }
        let kernel = kernel_load(&String::from_utf8_lossy(&bytes), family);
        compared += 1;
        if let Some((_, why)) = EXCEPTIONS.iter().find(|(p, _)| *p == entry.path) {
            eprintln!("{}: excused: {why}", entry.path);
            continue;
        }
        if loaded.loads() != kernel.loads {
            let first = loaded.diagnostics.iter().find(|d| d.severity() == Severity::Error).map(|d| d.to_string());
            failures.push(format!(
                "{}: kernel loads={}, ipt loads={} ({:?}; kernel: {})",
                entry.path,
                kernel.loads,
                loaded.loads(),
                first,
                kernel.stderr.trim()
            ));
            continue;
        }
        if !kernel.loads
            && let Some(line) = kernel.line
        {
            let first =
                loaded.diagnostics.iter().filter(|d| d.severity() == Severity::Error).filter_map(|d| d.offset()).min();
            let ipt_line = first.map(|o| source.line_col(o as u32).0);
            if ipt_line != Some(line) {
                failures.push(format!(
                    "{}: the kernel fails at line {line}, ipt's first error is at {ipt_line:?}",
                    entry.path
                ));
            }
        }
    }
    eprintln!("compared {compared} restore files with the kernel");
    assert!(compared > 300, "the manifest lists {compared} restore files");
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn fmt_round_trips_on_every_file_that_loads() {
    let mut failures = Vec::new();
    for entry in manifest().iter().filter(|e| e.format == "restore") {
        let text = String::from_utf8_lossy(&read(entry)).into_owned();
        let loaded = load(&Source::new(entry.path.clone(), text), &LoadOptions::default());
        if !loaded.loads() {
            continue;
        }
        let once = ipt::fmt::ruleset(&loaded.ruleset);
        // under the same name, as `ipt fmt --write` leaves it (the name may say the family)
        let reloaded = load(&Source::new(entry.path.clone(), once.clone()), &LoadOptions::default());
        if !reloaded.loads() {
            failures.push(format!("{}: fmt output does not load: {:?}", entry.path, reloaded.diagnostics.first()));
            continue;
        }
        if reloaded.ruleset != loaded.ruleset {
            failures.push(format!("{}: fmt output parses to another model", entry.path));
        }
        if ipt::fmt::ruleset(&reloaded.ruleset) != once {
            failures.push(format!("{}: fmt of fmt differs", entry.path));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_panic_on_any_file_nor_on_any_file_cut_short() {
    let mut checked = 0usize;
    for entry in manifest() {
        let bytes = read(&entry);
        let mut cuts: Vec<usize> = bytes.iter().enumerate().filter(|&(_, &b)| b == b'\n').map(|(i, _)| i + 1).collect();
        // every line boundary of small files, a sample of big ones; and a sample of byte offsets
        if cuts.len() > 200 {
            let step = cuts.len() / 200;
            cuts = cuts.into_iter().step_by(step).collect();
        }
        let mut state = bytes.len() as u64 | 1;
        for _ in 0..50 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            cuts.push((state >> 33) as usize % (bytes.len() + 1));
        }
        cuts.push(bytes.len());
        for cut in cuts {
            let text = String::from_utf8_lossy(&bytes[..cut]).into_owned();
            let name = format!("{} cut at byte {cut}", entry.path);
            let result = std::panic::catch_unwind(|| {
                let source = Source::new(name.clone(), text);
                let loaded = load(&source, &LoadOptions::default());
                let _ = ipt::fmt::ruleset(&loaded.ruleset);
                for d in &loaded.diagnostics {
                    let _ = ipt::diag::render_human(d, false, 100);
                    let _ = ipt::diag::render_json(d);
                }
            });
            assert!(result.is_ok(), "panic on {name}");
            checked += 1;
        }
    }
    eprintln!("loaded {checked} files and prefixes without a panic");
}

/// Words the mutations put into dumps: commands, options, values, targets and the syntax around
/// them, where the corpus's own files never put them. (Not `-h` nor `-V`, whose effect is known:
/// fixtures/check/version-option-stops-restore.rules.)
#[rustfmt::skip]
const MUTATION_WORDS: &[&str] = &[
    "-A", "-I", "-D", "-N", "-X", "-P", "-F", "-Z", "-E", "-j", "-g", "!", "-m", "-p", "-s", "-d", "-i", "-o",
    "-f", "-4", "-6", "-c", "tcp", "udp", "icmp", "all", "--dport", "--sport", "--dports", "--icmp-type",
    "multiport", "conntrack", "--ctstate", "NEW,ESTABLISHED", "state", "--state", "limit", "--limit", "1/s",
    "--limit-burst", "comment", "--comment", "mark", "--mark", "0x10/0xff", "addrtype", "--dst-type", "LOCAL",
    "ACCEPT", "DROP", "RETURN", "REJECT", "--reject-with", "tcp-reset", "LOG", "--log-prefix", "MARK",
    "--set-xmark", "DNAT", "--to-destination", "SNAT", "--to-source", "MASQUERADE", "REDIRECT", "--to-ports",
    "CT", "--notrack", "INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING", "COMMIT", "*nat", "*filter",
    "*raw", "*mangle", ":NEW - [0:0]", "[1:2]", "\"", "\"a b\"", "10.0.0.0/8", "2001:db8::/32", "192.0.2.1:80",
    "1:2", "65536", "0", "-1", "eth+", "lo", "NEW", "hashlimit", "--hashlimit-upto", "5/s", "--hashlimit-name",
    "recent", "--name", "--set", "--update", "--seconds", "--hitcount", "--rsource", "mac", "--mac-source",
    "00:11:22:33:44:55", "iprange", "--src-range", "1.2.3.4-1.2.3.9", "owner", "--uid-owner", "length", "--length",
    "ttl", "--ttl-gt", "tos", "--tos", "0x10", "pkttype", "--pkt-type", "broadcast", "physdev", "--physdev-in",
    "statistic", "--mode", "random", "--probability", "0.5", "TCPMSS", "--clamp-mss-to-pmtu", "--set-mss", "1400",
    "--zone", "--helper", "ftp", "CONNMARK", "--save-mark", "--restore-mark", "connmark", "NFLOG", "--nflog-group",
    "TPROXY", "--on-port", "NETMAP", "--to", "icmp-port-unreachable", "icmp6-port-unreachable", "TRACE", "policy",
    "--dir", "--pol", "ipsec", "icmp6", "--icmpv6-type", "echo-request", "hl", "--hl-eq", "ipv6-icmp", "--syn",
    "--tcp-flags", "SYN,ACK", "SYN", "--ports", "1,2:3", "--log-level", "--set-mark", "1/0xff", "--ctorigsrc",
    "--ctstatus", "ASSURED", "INVALID", "ULOG", "TTL", "--ttl-set", "HL", "--src-type", "UNICAST", "u32", "--u32",
    "0>>22&0x3C@0>>16=0x2", "--random", "--random-fully", "[2001:db8::1]:80",
];

/// Numbers at and past the limits of ports, prefixes, octets, marks and counters, and the forms
/// `strtoul` reads differently (octal, a sign, hexadecimal without digits).
const BOUNDARY_NUMBERS: &[&str] = &[
    "0",
    "00",
    "1",
    "7",
    "8",
    "08",
    "010",
    "0x",
    "+1",
    "-1",
    "15",
    "16",
    "31",
    "32",
    "33",
    "64",
    "127",
    "128",
    "129",
    "255",
    "256",
    "1023",
    "1024",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
];

/// One mutation of `text`: 1 to 3 words or lines replaced, put in, taken out, repeated or
/// swapped, or a number in a word set to a limit.
fn mutate(rng: &mut rng::Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for _ in 0..1 + rng.below(3) {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let i = rng.below(lines.len());
        let mut words: Vec<String> = lines[i].split(' ').map(str::to_string).collect();
        match rng.below(7) {
            0 => {
                let w = rng.below(words.len());
                words[w] = rng.pick(MUTATION_WORDS).to_string();
            }
            1 => {
                let w = rng.below(words.len() + 1);
                words.insert(w, rng.pick(MUTATION_WORDS).to_string());
            }
            2 if words.len() > 1 => {
                let w = rng.below(words.len());
                words.remove(w);
            }
            3 => {
                let j = rng.below(lines.len());
                let copy = lines[j].clone();
                lines.insert(rng.below(lines.len() + 1), copy);
                continue;
            }
            4 => {
                lines.remove(i);
                continue;
            }
            5 => {
                // one run of digits in one word (a port, a prefix length, an octet, a mark)
                let w = rng.below(words.len());
                let bytes = words[w].as_bytes();
                let runs: Vec<(usize, usize)> = (0..bytes.len())
                    .filter(|&i| bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()))
                    .map(|i| (i, (i..bytes.len()).find(|&j| !bytes[j].is_ascii_digit()).unwrap_or(bytes.len())))
                    .collect();
                if !runs.is_empty() {
                    let (start, end) = *rng.pick(&runs);
                    words[w].replace_range(start..end, rng.pick::<&str>(BOUNDARY_NUMBERS));
                }
            }
            _ => {
                let j = rng.below(lines.len());
                lines.swap(i, j);
                continue;
            }
        }
        lines[i] = words.join(" ");
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Why ipt may disagree with the kernel on a mutated dump, from ipt's own diagnostics: its
/// deliberate leniency and strictness (each with its fixture) and what depends on the machine.
fn mutation_excuse(loaded: &ipt::load::Loaded, kernel: &netns::KernelLoad) -> Option<&'static str> {
    let said = |code: &str| loaded.diagnostics.iter().any(|d| d.code() == code);
    if said("ipt::load::old_negation") && !kernel.loads {
        return Some("ipt reads the pre-1.4.3 negation `-s ! X`, with a warning");
    }
    if said("ipt::syntax::unterminated_quote") && kernel.loads {
        return Some("ipt refuses an unterminated quote, which iptables closes at the end of the line");
    }
    if said("ipt::load::host_name") && resolving_failed(kernel) {
        return Some("a host name, which only the machine that loads the file can resolve");
    }
    None
}

/// Whether the kernel's load failed on a name it could not resolve (ipt resolves none).
fn resolving_failed(kernel: &netns::KernelLoad) -> bool {
    ["host/network", "getaddrinfo"].iter().any(|said| kernel.stderr.contains(said))
}

/// Mutations of the corpus's dumps that load, each compared with a real load: the words that
/// make a dump fail, or not, in places the corpus's own files never put them. The verdicts
/// agree, and where both refuse, ipt reports an error where the kernel stopped. A case is a
/// function of the seed and its index alone; `IPT_MUTATION_SEED` and `IPT_MUTATION_CASES`
/// (default 400) run others.
#[test]
fn mutated_restore_files_agree_with_the_kernel() {
    require_kernel();
    let env = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (seed, cases) = (env("IPT_MUTATION_SEED", 1), env("IPT_MUTATION_CASES", 400));
    // small files (a load each), read once
    let bases: Vec<(String, Family, String)> = loadable_restore_files()
        .filter(|(_, source, _)| source.text().len() < 20_000 && !source.text().contains('\r'))
        .map(|(entry, source, _)| {
            let family = if entry.family == "IPv6" { Family::Ipv6 } else { Family::Ipv4 };
            (entry.path, family, source.text().to_string())
        })
        .collect();
    assert!(bases.len() > 100, "{} small loadable files", bases.len());
    let (mut failures, mut excused, mut both_load, mut first_agrees) = (Vec::new(), 0, 0, 0);
    for index in 0..cases {
        let mut rng = rng::Rng::new(seed, index);
        let (path, family, text) = rng.pick(&bases);
        let mutated = mutate(&mut rng, text);
        let name = format!("{path}, mutation {index} of seed {seed}");
        let loaded = load(
            &Source::new(name.clone(), mutated.clone()),
            &LoadOptions { family: Some(*family), ..Default::default() },
        );
        // as a user loads a file: without `-c`, whose counters ipt reads only where given
        let kernel = kernel_load_with(&mutated, *family, "");
        if loaded.loads() == kernel.loads {
            both_load += usize::from(kernel.loads);
            if kernel.loads {
                continue;
            }
            // both refuse: one of ipt's errors is where the kernel stopped (ipt reports them all,
            // the kernel its first), but for a host name, which ipt does not resolve, and the old
            // negation, which ipt reads with a warning
            let source = Source::new(name.clone(), mutated.clone());
            let line_of = |d: &ipt::diag::Diagnostic| d.offset().map(|offset| source.line_col(offset as u32).0);
            let errors = loaded.diagnostics.iter().filter(|d| d.severity() == Severity::Error);
            let error_lines: Vec<u32> = errors.filter_map(line_of).collect();
            first_agrees += usize::from(same_place(&mutated, kernel.line, error_lines.iter().min().copied()));
            let lenient = loaded.diagnostics.iter().filter(|d| d.code() == "ipt::load::old_negation");
            let lenient_lines: Vec<u32> = lenient.filter_map(line_of).collect();
            if !error_lines.iter().chain(&lenient_lines).any(|&line| same_place(&mutated, kernel.line, Some(line)))
                && !resolving_failed(&kernel)
            {
                failures.push(format!(
                    "{name}: the kernel fails at line {:?} ({}), ipt's errors are at lines {error_lines:?}\n{mutated}",
                    kernel.line,
                    kernel.stderr.trim()
                ));
            }
            continue;
        }
        if let Some(why) = mutation_excuse(&loaded, &kernel) {
            eprintln!("{name}: excused: {why}");
            excused += 1;
            continue;
        }
        let first = loaded.diagnostics.iter().find(|d| d.severity() == Severity::Error).map(|d| d.to_string());
        failures.push(format!(
            "{name}: kernel loads={}, ipt loads={} ({first:?}; kernel: {})\n{mutated}",
            kernel.loads,
            loaded.loads(),
            kernel.stderr.trim()
        ));
    }
    eprintln!(
        "compared {cases} mutated dumps with the kernel: {both_load} load on both sides, {excused} excused; \
         of those both refuse, {first_agrees} have ipt's first error where the kernel stopped"
    );
    // most mutations break a dump, but not all: both verdicts must be exercised
    assert!(both_load > 0 && both_load < cases as usize, "{both_load} of {cases} load");
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n\n"));
}

/// Splits a shell command line into words (`'…'` and `"…"` quoting, as ferm writes them).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

/// A word as iptables-restore reads it back: in double quotes when it holds blanks or quotes.
fn restore_word(word: &str) -> String {
    if !word.is_empty() && !word.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '\\') {
        return word.to_string();
    }
    format!("\"{}\"", word.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One `iptables [-t TABLE] -A|-I|-P CHAIN …` command (or `iptables-translate …`) as a restore
/// file of its own; `None` for other commands (flushes, other tools).
fn command_as_restore(words: &[String]) -> Option<(Family, String)> {
    let family = match words.first()?.trim_end_matches("-translate") {
        "iptables" => Family::Ipv4,
        "ip6tables" => Family::Ipv6,
        _ => return None,
    };
    let mut args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let mut table = "filter";
    if let Some(at) = args.iter().position(|w| *w == "-t") {
        table = args.get(at + 1)?;
        args.drain(at..at + 2);
    }
    let [command @ ("-A" | "-I" | "-P"), chain, rest @ ..] = &args[..] else { return None };
    let mut rest = rest.to_vec();
    if *command == "-I" && rest.first().is_some_and(|w| w.parse::<u32>().is_ok()) {
        rest.remove(0);
    }
    let mut text = format!("*{table}\n");
    let builtins = builtin_chains(table);
    for builtin in builtins {
        let policy = if *command == "-P" && builtin == chain { rest.first()? } else { "ACCEPT" };
        text.push_str(&format!(":{builtin} {policy} [0:0]\n"));
    }
    if !builtins.contains(chain) {
        text.push_str(&format!(":{chain} - [0:0]\n"));
    }
    if *command != "-P" {
        let rule: Vec<String> = rest.iter().map(|w| restore_word(w)).collect();
        text.push_str(&format!("-A {chain} {}\n", rule.join(" ")));
    }
    text.push_str("COMMIT\n");
    Some((family, text))
}

/// Commands where ipt and the kernel disagree for a reason: (command, reason).
/// Commands ipt rightly warns depend on the host (an ipset, an nfacct object, a cgroup) are
/// excused where this machine lacks what they name.
const COMMAND_EXCEPTIONS: &[(&str, &str)] = &[(
    "iptables -t filter -A INPUT -m u32 --u32 '27&0x8f=7' --u32 31=0x527c4833 -j DROP",
    "ipt keeps -m u32 verbatim and does not check its options; iptables takes `--u32` once",
)];

/// The ferm files are `iptables …` command lines, one rule each: every one is loaded on its own,
/// by ipt and by the kernel, to check that ipt knows each module's options as iptables does.
#[test]
fn command_lines_agree_with_the_kernel_one_by_one() {
    let compared = commands_agree_with_the_kernel("iptables-cmd", true);
    assert!(compared > 300, "the ferm files hold {compared} commands");
}

/// The same for the `iptables-translate` commands of the iptables-translate vectors (their nft
/// side is for the nft backend).
#[test]
fn translate_vector_commands_agree_with_the_kernel_one_by_one() {
    let compared = commands_agree_with_the_kernel("txlate", false);
    assert!(compared > 300, "the translate vectors hold {compared} rule commands");
}

/// A rule without the options that match everything, which iptables-save leaves out though the
/// kernel keeps them.
fn without_match_everything(rule: &str) -> String {
    let mut out = rule.to_string();
    for gone in
        ["! -i +", "! -o +", "-i +", "-o +", "-p all", "! --sport 0:65535", "! --dport 0:65535", "! --mh-type 0:255"]
    {
        out = out.replace(&format!(" {gone}"), "");
    }
    out
}

/// Loads every rule command of the files of `format` on its own, by ipt and by the kernel, and
/// fails on any disagreement; returns how many were compared. `all`: every line must be one.
fn commands_agree_with_the_kernel(format: &str, all: bool) -> usize {
    require_kernel();
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut excused = 0;
    for entry in manifest().iter().filter(|e| e.format == format) {
        let text = String::from_utf8_lossy(&read(entry)).into_owned();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let words = shell_words(line);
            let Some((family, restore)) = command_as_restore(&words) else {
                assert!(!all, "{}: not a command: {line}", entry.path);
                continue;
            };
            let loaded = load(
                &Source::new(entry.path.clone(), restore.clone()),
                &LoadOptions { family: Some(family), ..Default::default() },
            );
            let kernel = kernel_load(&restore, family);
            compared += 1;
            if let Some((_, why)) = COMMAND_EXCEPTIONS.iter().find(|(c, _)| *c == line) {
                eprintln!("{line}: excused: {why}");
                excused += 1;
                continue;
            }
            let host_dependent = loaded.diagnostics.iter().any(|d| d.code() == "ipt::check::host_dependent");
            if host_dependent && loaded.loads() && !kernel.loads {
                eprintln!("{line}: excused: depends on the host, as ipt warns");
                excused += 1;
                continue;
            }
            if loaded.loads() && kernel.loads {
                // the rule as iptables-save prints it, and as ipt fmt does
                let saved =
                    kernel.saved.lines().find(|l| l.contains(" -A ")).map(|l| l.split_once(' ').map_or(l, |(_, r)| r));
                let printed = ipt::fmt::ruleset(&loaded.ruleset);
                let ours = printed.lines().find(|l| l.starts_with("-A "));
                let verbatim = loaded.diagnostics.iter().any(|d| d.code().contains("unmodelled"));
                if saved != ours && verbatim {
                    eprintln!("{line}: excused: ipt keeps the extension verbatim, as written");
                    excused += 1;
                } else if saved != ours && ours.map(without_match_everything).as_deref() == saved {
                    // docs/fmt.md: the kernel keeps them; they decide its chain walk, or make
                    // the rule never match
                    eprintln!("{line}: excused: iptables-save drops a match-everything option, ipt prints it");
                    excused += 1;
                } else if saved != ours {
                    failures.push(format!("{line}\n    iptables-save: {saved:?}\n    ipt fmt:       {ours:?}"));
                }
            }
            if loaded.loads() != kernel.loads {
                let first = loaded.diagnostics.iter().find(|d| d.severity() == Severity::Error).map(|d| d.to_string());
                let warnings: Vec<String> = loaded.diagnostics.iter().map(|d| d.code()).collect();
                failures.push(format!(
                    "{line}\n    kernel loads={}, ipt loads={} ({first:?}; {warnings:?}; kernel: {})",
                    kernel.loads,
                    loaded.loads(),
                    kernel.stderr.lines().next().unwrap_or_default()
                ));
            }
        }
    }
    eprintln!("compared {compared} commands with the kernel ({excused} excused)");
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
    compared
}

/// `ipt lint`, every lint on, over every restore file that loads: no panic, and a summary of the
/// findings per file in a snapshot, so that a change in what the lints find is reviewed.
#[test]
fn lint_runs_on_every_file_and_its_findings_are_reviewed() {
    let mut config = ipt::lint::Config::default();
    for category in ipt::lint::Category::ALL {
        config.set(category.as_str(), ipt::lint::Level::Warn).expect("a category");
    }
    let mut summary = String::new();
    for (entry, source, loaded) in loadable_restore_files() {
        let found = std::panic::catch_unwind(|| ipt::lint::run(&source, &loaded.ruleset, &config))
            .unwrap_or_else(|_| panic!("lint panics on {}", entry.path));
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for d in &found {
            *counts.entry(d.code()).or_default() += 1;
        }
        let line: Vec<String> = counts.iter().map(|(code, n)| format!("{code}×{n}")).collect();
        summary.push_str(&format!(
            "{}: {}\n",
            entry.path,
            if line.is_empty() { "clean".into() } else { line.join(" ") }
        ));
    }
    insta::assert_snapshot!("lint_summary", summary);
}

/// No false positives: for every rule the unreachable-rule analysis finds in the corpus, packets
/// sampled from what the rule matches are each decided (accepted, dropped or rejected) by an
/// earlier rule of its chain, and matched by a rule of the reported cover.
#[test]
fn every_unreachable_rule_in_the_corpus_is_decided_earlier_for_sampled_packets() {
    use ipt::analysis::unreachable::{decides, unreachable_in_table};
    use ipt::space::Space;
    let mut findings = 0;
    let mut packets = 0;
    for entry in manifest().iter().filter(|e| e.format == "restore") {
        let text = String::from_utf8_lossy(&read(entry)).into_owned();
        let loaded = load(&Source::new(entry.path.clone(), text), &LoadOptions::default());
        if !loaded.loads() {
            continue;
        }
        for table in &loaded.ruleset.tables {
            for (c, report) in unreachable_in_table(table) {
                let chain = &table.chains[c];
                let space = Space::at(table.family, chain.hook());
                let sets: Vec<_> = chain.rules.iter().map(|r| space.rule(r)).collect();
                for u in &report.unreachable {
                    findings += 1;
                    for p in sets[u.rule].over.samples(16, u.rule as u64) {
                        packets += 1;
                        let decided = (0..u.rule).any(|j| {
                            decides(&chain.rules[j].target.kind) && sets[j].under().is_some_and(|s| s.contains(&p))
                        });
                        assert!(decided, "{} {} rule {}: a sampled packet reaches it", entry.path, chain.name, u.rule);
                        assert!(
                            u.cover.iter().any(|&j| sets[j].over.contains(&p)),
                            "{} {} rule {}: no rule of the cover matches a sampled packet",
                            entry.path,
                            chain.name,
                            u.rule
                        );
                    }
                }
            }
        }
    }
    eprintln!("{findings} unreachable rules in the corpus, {packets} sampled packets each decided earlier");
    assert!(findings > 0, "the corpus has unreachable rules; the analysis found none");
}

/// Every corpus dump that loads is either translated, and the translation (optimised and not)
/// loads into a real kernel, or refused with `untranslatable` errors only: never another kind of
/// failure. The counts are printed, for the record.
#[test]
fn every_loadable_file_translates_to_nft_that_loads_or_is_refused_with_reasons() {
    require_kernel();
    netns::require_nft();
    let (mut translated, mut refused) = (0, 0);
    let mut failures = Vec::new();
    for (entry, source, loaded) in loadable_restore_files() {
        for optimize in [true, false] {
            let options = ipt::nft::Options { optimize, ..Default::default() };
            let t = ipt::nft::translate(&[ipt::nft::Input { source: &source, ruleset: &loaded.ruleset }], &options);
            if !t.complete() {
                let codes: Vec<String> =
                    t.diagnostics.iter().filter(|d| d.severity() == Severity::Error).map(|d| d.code()).collect();
                if codes.iter().any(|c| c != "ipt::translate::untranslatable") {
                    failures.push(format!("{}: refused with {codes:?}", entry.path));
                }
                refused += usize::from(optimize);
                break;
            }
            translated += usize::from(optimize);
            if let Err(e) = netns::nft_load(&t.script.text(&entry.path), false) {
                failures.push(format!("{} (optimize {optimize}): nft refuses it: {e}", entry.path));
            }
        }
    }
    eprintln!("translated {translated} corpus files, refused {refused}");
    assert!(translated >= 150, "only {translated} files translated");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every restore file that ipt translates (with and without `--no-optimize`, and as one inet
/// table): its `--format json` loads as the same ruleset as its nft script.
#[test]
fn translate_json_loads_as_the_same_ruleset_as_the_nft_script() {
    nft_json::require_nft();
    let mut failures = Vec::new();
    let mut same = 0;
    for entry in manifest().iter().filter(|e| e.format == "restore") {
        let text = String::from_utf8_lossy(&read(entry)).into_owned();
        for (flags, options) in nft_json::option_sets() {
            let Some(translated) = nft_json::translate_dump(&entry.path, &text, &options) else { continue };
            match nft_json::compare(&translated) {
                Ok(nft_json::Outcome::Same) => same += 1,
                Ok(nft_json::Outcome::BothRefused(why)) => eprintln!("{} {flags}: nft refuses both: {why}", entry.path),
                Err(diff) => failures.push(format!("{} {flags}: {diff}", entry.path)),
            }
        }
    }
    eprintln!("{same} corpus translations load as the same ruleset from nft text and from JSON");
    assert!(failures.is_empty(), "{} differ:\n{}", failures.len(), failures.join("\n"));
    assert!(same > 100, "only {same} corpus translations compared");
}

/// The same for every `iptables …` command of the ferm files and of the iptables-translate
/// vectors, each on its own as a restore file: hundreds of single rules, most forms once.
#[test]
fn translate_json_of_each_corpus_command_loads_as_the_nft_script() {
    nft_json::require_nft();
    let mut failures = Vec::new();
    let mut same = 0;
    for entry in manifest().iter().filter(|e| e.format == "txlate" || e.format == "iptables-cmd") {
        let text = String::from_utf8_lossy(&read(entry)).into_owned();
        for line in text.lines() {
            let Some((family, restore)) = command_as_restore(&shell_words(line)) else { continue };
            let name = format!("{}: {line}", entry.path);
            let source = Source::new(name.clone(), restore.clone());
            if !load(&source, &LoadOptions { family: Some(family), ..Default::default() }).loads() {
                continue;
            }
            let restore = match family {
                // the dump says which family it is, as ip6tables-save's header does
                Family::Ipv6 => format!("# Generated by ip6tables-save\n{restore}"),
                Family::Ipv4 => restore,
            };
            for (flags, options) in nft_json::option_sets() {
                let Some(translated) = nft_json::translate_dump(&name, &restore, &options) else { continue };
                match nft_json::compare(&translated) {
                    Ok(nft_json::Outcome::Same) => same += 1,
                    Ok(nft_json::Outcome::BothRefused(why)) => eprintln!("{name} {flags}: nft refuses both: {why}"),
                    Err(diff) => failures.push(format!("{name} {flags}: {diff}")),
                }
            }
        }
    }
    eprintln!("{same} single-command translations load as the same ruleset from nft text and from JSON");
    assert!(failures.is_empty(), "{} differ:\n{}", failures.len(), failures.join("\n"));
    assert!(same > 100, "only {same} single-command translations compared");
}

/// `ipt apply` (cargo feature `netlink`) of every corpus dump that loads and that ipt translates,
/// each in a private network namespace of its own: nft then lists what it lists after `nft -f`
/// of `ipt translate`'s script (handles aside); and `--confirm` answered "no" over it (a dump
/// with raw, mangle, nat and filter tables) puts it back exactly.
#[cfg(feature = "netlink")]
#[test]
fn apply_of_every_translated_file_lists_as_nft_f_does_and_a_refused_confirm_puts_it_back() {
    use serde_json::Value;
    netns::require_nft();
    const IPT: &str = env!("CARGO_BIN_EXE_ipt");
    const SEP: &str = "=====";
    let objects = |listing: &str| -> Vec<Value> {
        let doc: Value = serde_json::from_str(listing).unwrap_or_else(|e| panic!("nft lists no JSON ({e}): {listing}"));
        let mut objects = doc["nftables"].as_array().cloned().unwrap_or_default();
        objects.retain(|o| o.get("metainfo").is_none());
        for object in &mut objects {
            if let Some(inner) =
                object.as_object_mut().and_then(|o| o.values_mut().next()).and_then(Value::as_object_mut)
            {
                inner.remove("handle");
            }
        }
        // a rollback re-creates tables in another order: only each table's own order counts
        objects.sort_by_key(|o| {
            let inner = o.as_object().and_then(|o| o.values().next()).cloned().unwrap_or_default();
            (
                inner["family"].to_string(),
                inner.get("table").or_else(|| inner.get("name")).cloned().unwrap_or_default().to_string(),
            )
        });
        objects
    };
    let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/translate/forms.rules");
    let mut failures = Vec::new();
    let mut applied = 0;
    for (entry, source, loaded) in loadable_restore_files() {
        let t = ipt::nft::translate(
            &[ipt::nft::Input { source: &source, ruleset: &loaded.ruleset }],
            &ipt::nft::Options::default(),
        );
        if !t.complete() {
            continue;
        }
        let file = corpus().join(&entry.path);
        let script = format!(
            "{IPT} translate '{file}' 2>/dev/null | nft -f - && nft -j list ruleset && echo {SEP} && nft flush ruleset && \
             {{ err=$({IPT} apply '{file}' 2>&1) || echo \"$err\" >&2; }}; nft -j list ruleset && echo {SEP} && \
             echo no | {IPT} apply --confirm 30 '{other}' 2>/dev/null; nft -j list ruleset",
            file = file.display(),
            other = other.display()
        );
        let out = std::process::Command::new("timeout")
            .args(["120", "unshare", "-n", "sh", "-c", &script])
            .env_remove("SSH_CONNECTION")
            // `--confirm`'s FIFO in a directory of this run's, not the host's /run/ipt
            .env("IPT_RUN_DIR", std::env::temp_dir().join(format!("ipt-run-corpus-{}", std::process::id())))
            .output()
            .expect("unshare runs");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let parts: Vec<&str> = stdout.split(&format!("{SEP}\n")).collect();
        let [by_nft, by_apply, rolled_back] = parts.as_slice() else {
            failures.push(format!("{}: unexpected output: {stderr}", entry.path));
            continue;
        };
        if !stderr.trim().is_empty() {
            failures.push(format!("{}: ipt apply: {}", entry.path, stderr.trim()));
            continue;
        }
        let (by_nft, by_apply, rolled_back) = (objects(by_nft), objects(by_apply), objects(rolled_back));
        if by_apply != by_nft {
            let first = by_apply.iter().zip(&by_nft).find(|(a, b)| a != b);
            failures.push(format!("{}: ipt apply lists otherwise than nft -f: {first:?}", entry.path));
        } else if rolled_back != by_apply {
            let first = rolled_back.iter().zip(&by_apply).find(|(a, b)| a != b);
            failures.push(format!("{}: the --confirm rollback is not what was there: {first:?}", entry.path));
        } else {
            applied += 1;
        }
    }
    eprintln!("{applied} corpus dumps applied as nft -f loads them, and put back after a refused --confirm");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    assert!(applied >= 150, "only {applied} corpus dumps applied");
}
