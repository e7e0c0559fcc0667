//! Every fixture under `fixtures/check/` and `fixtures/valid/`: `ipt check`'s diagnostics
//! rendered and snapshotted, its verdict equal to the one the fixture declares (the kernel tier
//! checks the declaration against a real kernel), and for the valid ones `ipt fmt` snapshotted
//! and stable.

use std::path::Path;

use super::support::{fixture, ipt};

/// A fixture's declared expectation: `# kernel: loads|refuses`, and `# ipt: lenient|strict: why`
/// where ipt deliberately disagrees.
pub struct Expectation {
    pub kernel_loads: bool,
    pub ipt_differs: Option<String>,
}

pub fn expectation(text: &str) -> Expectation {
    let header = |key: &str| {
        text.lines()
            .map(|l| l.trim_end_matches('\r'))
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
            .map(str::to_string)
    };
    let kernel = header("# kernel:").unwrap_or_else(|| "loads".into());
    assert!(kernel == "loads" || kernel == "refuses", "bad `# kernel:` header: {kernel}");
    Expectation { kernel_loads: kernel == "loads", ipt_differs: header("# ipt:") }
}

pub fn files(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture(dir))
        .expect("fixture directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rules"))
        .collect();
    names.sort();
    names
}

fn snapshot_name(dir: &str, name: &str) -> String {
    format!("{dir}__{}", Path::new(name).file_stem().unwrap_or_default().to_string_lossy())
}

#[test]
fn check_fixtures_report_what_they_declare() {
    for name in files("check") {
        let path = format!("fixtures/check/{name}");
        let text = std::fs::read(fixture(&format!("check/{name}"))).expect("fixture");
        let expect = expectation(&String::from_utf8_lossy(&text));
        let run = ipt(&["check", &path], None);
        let ipt_loads = match run.code {
            0 => true,
            1 => false,
            other => panic!("{name}: exit {other}\n{}", run.stderr),
        };
        let expected_ipt = match expect.ipt_differs.as_deref() {
            Some(why) if why.starts_with("lenient") => true,
            Some(why) if why.starts_with("strict") => false,
            Some(other) => panic!("{name}: `# ipt:` must say lenient or strict, not {other}"),
            None => expect.kernel_loads,
        };
        assert_eq!(ipt_loads, expected_ipt, "{name}: ipt says loads={ipt_loads}\n{}", run.stderr);
        if expect.ipt_differs.is_some() {
            assert!(run.stderr.contains("warning") || run.stderr.contains('×'), "{name}: a deviation is reported");
        }
        insta::assert_snapshot!(snapshot_name("check", &name), run.transcript());
    }
}

#[test]
fn valid_fixtures_load_and_format_stably() {
    for name in files("valid") {
        let path = format!("fixtures/valid/{name}");
        let check = ipt(&["check", "--format", "json", &path], None);
        assert_eq!(check.code, 0, "{name}: {}", check.stdout);
        let json: serde_json::Value = serde_json::from_str(&check.stdout).expect("json");
        assert_eq!(json["files"][0]["errors"], 0, "{name}");
        let fmt = ipt(&["fmt", &path], None);
        assert_eq!(fmt.code, 0, "{name}: {}", fmt.stderr);
        insta::assert_snapshot!(snapshot_name("fmt", &name), fmt.stdout);
        // fmt of fmt is fmt, and means the same model
        let again = ipt(&["fmt", "-"], Some(&fmt.stdout));
        assert_eq!(again.stdout, fmt.stdout, "{name}: fmt is not stable");
        let model = ipt(&["parse", &path], None);
        let model_again = ipt(&["parse", "-"], Some(&fmt.stdout));
        assert_eq!(strip_lines(&model.stdout), strip_lines(&model_again.stdout), "{name}: fmt changed the model");
    }
}

/// The model's JSON without the `line` fields, which move when fmt reorders.
fn strip_lines(json: &str) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("line");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v: serde_json::Value = serde_json::from_str(json).expect("json");
    strip(&mut v);
    v
}
