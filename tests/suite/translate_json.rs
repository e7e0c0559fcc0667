//! `ipt translate --format json`: the libnftables JSON of every translate fixture, snapshotted;
//! JSON for every script ipt translate writes (the kernel tier loads both and compares them).

use super::fixtures::files;
use super::support::ipt;

/// The ways the kernel tier translates each fixture, too.
const OPTIONS: [&[&str]; 3] = [&[], &["--no-optimize"], &["--family", "inet"]];

#[test]
fn translate_fixtures_as_json() {
    for name in files("translate") {
        let path = format!("fixtures/translate/{name}");
        let text = ipt(&["translate", &path], None);
        let run = ipt(&["translate", "--format", "json", &path], None);
        assert_eq!(run.code, text.code, "{name}: {}", run.stderr);
        if text.code != 0 {
            continue; // a fixture of refusals (the text's snapshot shows them)
        }
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
        assert_eq!(doc["nftables"][0], serde_json::json!({"metainfo": {"json_schema_version": 1}}), "{name}");
        let stem = name.trim_end_matches(".rules");
        insta::assert_snapshot!(format!("translate_json__{stem}"), run.stdout);
    }
}

/// Every fixture that translates has JSON: no nft text `lower` writes lacks a JSON form.
#[test]
fn every_translated_fixture_has_json() {
    let mut translated = 0;
    for dir in ["translate", "nft-mapping"] {
        for name in files(dir) {
            let path = format!("fixtures/{dir}/{name}");
            for options in OPTIONS {
                let text = ipt(&[&["translate"], options, &[&path]].concat(), None);
                let json = ipt(&[&["translate", "--format", "json"], options, &[&path]].concat(), None);
                assert_eq!(json.code, text.code, "{path} {options:?}: {}", json.stderr);
                if text.code != 0 {
                    assert!(json.stdout.is_empty(), "{path} {options:?}: nothing printed when refused");
                    continue;
                }
                translated += 1;
                let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
                let rules =
                    doc["nftables"].as_array().expect("commands").iter().filter(|c| c["add"]["rule"].is_object());
                let text_rules = text
                    .stdout
                    .lines()
                    .filter(|l| l.starts_with("\t\t") && !l.starts_with("\t\ttype ") && !l.starts_with("\t\telements "))
                    .count();
                assert_eq!(rules.count(), text_rules, "{path} {options:?}: one JSON rule per nft rule");
                let maps = doc["nftables"].as_array().expect("commands").iter().filter(|c| c["add"]["map"].is_object());
                let text_maps = text.stdout.lines().filter(|l| l.starts_with("\tmap ")).count();
                assert_eq!(maps.count(), text_maps, "{path} {options:?}: one JSON map per named map");
            }
        }
    }
    assert!(translated > 20, "{translated} translations");
}

/// `--every N` is kept as the kernel keeps it, N - 1; nft's modulus is N.
#[test]
fn statistic_nth_every_3_is_numgen_mod_3() {
    let rules =
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m statistic --mode nth --every 3 --packet 1 -j ACCEPT\nCOMMIT\n";
    let run = ipt(&["translate", "-"], Some(rules));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("numgen inc mod 3 1 accept"), "{}", run.stdout);
}
