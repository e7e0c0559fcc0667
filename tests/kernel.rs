//! The kernel tier: ipt's answers compared with a real kernel's, in private network namespaces
//! (`cargo test --features kernel-tests --test kernel`, as root; `.ci/run` does it).

#[cfg(feature = "netlink")]
#[path = "tier/apply.rs"]
mod apply;
#[path = "tier/explain_gen.rs"]
mod explain_gen;
#[path = "tier/explain_kernel.rs"]
mod explain_kernel;
#[path = "tier/explain_vs_kernel.rs"]
mod explain_vs_kernel;
#[path = "tier/netns.rs"]
mod netns;
#[path = "tier/rng.rs"]
mod rng;
#[allow(dead_code, reason = "the kernel tier runs ipt, it takes no snapshot")]
#[path = "suite/support.rs"]
mod support;
#[path = "tier/translate_kernel.rs"]
mod translate_kernel;
#[path = "tier/translate_loads.rs"]
mod translate_loads;
#[path = "tier/values.rs"]
mod values;

use std::path::Path;

use ipt::diag::Severity;
use ipt::load::{LoadOptions, load};
use ipt::model::{Family, Ruleset};
use ipt::source::Source;
use netns::{kernel_load, require_kernel, same_place};

fn fixture_files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .collect();
    files.sort();
    files
}

fn header(text: &str, key: &str) -> Option<String> {
    text.lines().map(|l| l.trim_end_matches('\r')).find_map(|l| l.strip_prefix(key)).map(|v| v.trim().to_string())
}

/// The tables of one family, printed canonically (for feeding one restore tool).
fn one_family(ruleset: &Ruleset, family: Family) -> String {
    let mut out = String::new();
    for table in ruleset.tables.iter().filter(|t| t.family == family) {
        ipt::fmt::table(&mut out, table);
    }
    out
}

#[test]
fn check_fixtures_declare_what_the_kernel_does_and_ipt_points_at_the_same_line() {
    require_kernel();
    let mut failures = Vec::new();
    for path in fixture_files("check") {
        let bytes = std::fs::read(&path).expect("fixture");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let source = Source::new(name.clone(), text.clone());
        let loaded = load(&source, &LoadOptions::default());
        let family = loaded.ruleset.tables.first().map_or(Family::Ipv4, |t| t.family);
        // the raw bytes, exactly as a user would feed them to iptables-restore
        let kernel = kernel_load(&String::from_utf8_lossy(&bytes), family);
        let declared = header(&text, "# kernel:").unwrap_or_default();
        if (declared == "loads") != kernel.loads {
            failures.push(format!(
                "{name}: declares `{declared}`, the kernel says loads={} ({})",
                kernel.loads,
                kernel.stderr.trim()
            ));
            continue;
        }
        let deviation = header(&text, "# ipt:");
        if kernel.loads || deviation.is_some() {
            continue;
        }
        // where the kernel refuses, ipt's first error is on the line it names; when that line
        // is a COMMIT (the kernel checks a table when it is committed) or the end of the file,
        // ipt names the rule or table inside that section
        let first =
            loaded.diagnostics.iter().filter(|d| d.severity() == Severity::Error).filter_map(|d| d.offset()).min();
        let ipt_line = first.map(|o| source.line_col(o as u32).0);
        if !same_place(&text, kernel.line, ipt_line) {
            failures.push(format!(
                "{name}: the kernel fails at line {:?}, ipt's first error is at line {ipt_line:?} ({})",
                kernel.line,
                kernel.stderr.trim()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn valid_fixtures_load_and_fmt_prints_what_iptables_save_prints() {
    require_kernel();
    let mut failures = Vec::new();
    for path in fixture_files("valid") {
        let text = std::fs::read_to_string(&path).expect("fixture");
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let loaded = load(&Source::new(name.clone(), text), &LoadOptions::default());
        assert!(loaded.loads(), "{name}: {:?}", loaded.diagnostics);
        for family in loaded.ruleset.families() {
            let ours = one_family(&loaded.ruleset, family);
            let kernel = kernel_load(&ours, family);
            if !kernel.loads {
                failures.push(format!("{name} ({family}): the kernel refuses ipt's output: {}", kernel.stderr.trim()));
                continue;
            }
            // iptables-save lists every table the kernel has; keep ours, without comments, and
            // without the zero counters `-c` prints on every rule
            let clean = |text: &str| -> Vec<String> {
                text.lines()
                    .filter(|l| !l.starts_with('#'))
                    .map(|l| l.strip_prefix("[0:0] ").unwrap_or(l).to_string())
                    .collect()
            };
            let (saved, mine) = (clean(&kernel.saved), clean(&ours));
            let saved_tables = tables_of(&saved);
            for (table, lines) in tables_of(&mine) {
                match saved_tables.iter().find(|(t, _)| *t == table) {
                    Some((_, theirs)) if *theirs == lines => {}
                    Some((_, theirs)) => failures.push(format!(
                        "{name} ({family}) table {table}:\n  iptables-save:\n    {}\n  ipt fmt:\n    {}",
                        theirs.join("\n    "),
                        lines.join("\n    ")
                    )),
                    None => failures.push(format!("{name} ({family}): iptables-save has no table {table}")),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The lines of each `*table` section.
fn tables_of(lines: &[String]) -> Vec<(&str, Vec<&str>)> {
    let mut tables = Vec::new();
    for line in lines {
        if let Some(name) = line.strip_prefix('*') {
            tables.push((name, Vec::new()));
        } else if let Some((_, body)) = tables.last_mut() {
            body.push(line.as_str());
        }
    }
    tables
}

#[allow(dead_code, reason = "only the generator is used")]
#[path = "../benches/kube_dump.rs"]
mod kube_dump;
#[path = "tier/nft_json.rs"]
mod nft_json;

/// `ipt translate --format json` makes the same ruleset as the nft script: every translate and
/// nft-mapping fixture that translates, and a kube-proxy dump, each with and without
/// `--no-optimize` (and as one inet table), loaded both ways and listed back by nft.
#[test]
fn translate_json_loads_as_the_same_ruleset_as_the_nft_script() {
    nft_json::require_nft();
    let mut dumps: Vec<(String, String)> = Vec::new();
    for dir in ["translate", "nft-mapping"] {
        for path in fixture_files(dir) {
            let name = format!("fixtures/{dir}/{}", path.file_name().unwrap_or_default().to_string_lossy());
            dumps.push((name, std::fs::read_to_string(&path).expect("fixture")));
        }
    }
    dumps.push(("kube-proxy dump, 200 services".into(), kube_dump::kube_dump(200, 3)));
    let mut failures = Vec::new();
    let mut same = 0;
    for (name, dump) in &dumps {
        for (flags, options) in nft_json::option_sets() {
            let Some(translated) = nft_json::translate_dump(name, dump, &options) else { continue };
            match nft_json::compare(&translated) {
                Ok(nft_json::Outcome::Same) => same += 1,
                Ok(nft_json::Outcome::BothRefused(why)) => eprintln!("{name} {flags}: nft refuses both: {why}"),
                Err(diff) => failures.push(format!("{name} {flags}: {diff}")),
            }
        }
    }
    eprintln!("{same} translations load as the same ruleset from nft text and from JSON");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(same >= 30, "only {same} translations compared");
}
