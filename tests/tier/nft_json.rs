//! `ipt translate`'s nft script and its JSON (`--format json`), each loaded into a fresh private
//! network namespace (`nft -f`, `nft -j -f`), and what nft lists back compared: the JSON must
//! make the same ruleset, rule for rule. Never touches the host's ruleset.

use std::io::Write;
use std::process::{Command, Stdio};

use ipt::load::{LoadOptions, load};
use ipt::nft::{Input, NftFamily, Options, translate};
use ipt::source::Source;
use serde_json::Value;

/// Fails the test, loudly, when this machine cannot load nft rulesets.
pub fn require_nft() {
    let root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert_eq!(root.ok(), Some(true), "nft tests need root (they load rulesets into private network namespaces)");
    for tool in ["unshare", "nft", "timeout"] {
        let found =
            Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
        assert!(found, "nft tests need `{tool}` (apt-get install -y nftables util-linux coreutils)");
    }
}

/// The ways each dump is translated.
pub fn option_sets() -> Vec<(&'static str, Options)> {
    vec![
        ("", Options::default()),
        ("--no-optimize", Options { optimize: false, ..Options::default() }),
        ("--family inet", Options { family: Some(NftFamily::Inet), ..Options::default() }),
    ]
}

/// A dump's translation as nft text and as JSON; `None` when ipt refuses it.
pub struct Translated {
    pub text: String,
    pub json: String,
}

pub fn translate_dump(name: &str, dump: &str, options: &Options) -> Option<Translated> {
    let source = Source::new(name.to_string(), dump.to_string());
    let loaded = load(&source, &LoadOptions::default());
    if !loaded.loads() {
        return None;
    }
    let translation = translate(&[Input { source: &source, ruleset: &loaded.ruleset }], options);
    if !translation.complete() {
        return None;
    }
    let json = translation.script.json_text().unwrap_or_else(|e| panic!("{name}: {e}"));
    Some(Translated { text: translation.script.text(name), json })
}

/// What nft lists after loading `script` into a fresh namespace, without the handles the
/// kernel numbers things by; or nft's error.
pub fn listing(script: &str, json: bool) -> Result<Vec<Value>, String> {
    let load = if json { "nft -j -f /dev/stdin" } else { "nft -f /dev/stdin" };
    let mut child = Command::new("timeout")
        .args(["120", "unshare", "-n", "sh", "-c", &format!("{load} && nft -j list ruleset")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare runs");
    child.stdin.take().expect("piped").write_all(script.as_bytes()).expect("stdin written");
    let out = child.wait_with_output().expect("unshare finishes");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let doc: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("nft lists no JSON: {e}"))?;
    let mut objects = doc["nftables"].as_array().cloned().unwrap_or_default();
    objects.retain(|o| o.get("metainfo").is_none());
    for object in &mut objects {
        if let Some(inner) = object.as_object_mut().and_then(|o| o.values_mut().next()).and_then(Value::as_object_mut) {
            inner.remove("handle");
        }
    }
    Ok(objects)
}

/// How a translation's two forms fared in the kernel.
pub enum Outcome {
    /// Both loaded, and nft lists the same ruleset.
    Same,
    /// nft refuses both (the text's error).
    BothRefused(String),
}

/// Loads both forms and compares them; `Err` says how they differ.
pub fn compare(t: &Translated) -> Result<Outcome, String> {
    match (listing(&t.text, false), listing(&t.json, true)) {
        (Ok(text), Ok(json)) if text == json => Ok(Outcome::Same),
        (Ok(text), Ok(json)) => {
            let mut diff = String::new();
            for (a, b) in text.iter().zip(&json).filter(|(a, b)| a != b).take(3) {
                diff.push_str(&format!("\n  from the text: {a}\n  from the JSON: {b}"));
            }
            if text.len() != json.len() {
                diff.push_str(&format!("\n  {} objects from the text, {} from the JSON", text.len(), json.len()));
            }
            Err(diff)
        }
        (Err(text), Err(_)) => Ok(Outcome::BothRefused(text.lines().next().unwrap_or_default().to_string())),
        (Ok(_), Err(json)) => Err(format!("nft loads the text but refuses the JSON: {}", json.trim())),
        (Err(text), Ok(_)) => Err(format!("nft loads the JSON but refuses the text: {}", text.trim())),
    }
}
