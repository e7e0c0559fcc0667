//! `ipt translate`'s output loads into a real kernel (`nft -f` in a private namespace): every
//! fixture that translates, optimised and not, and generated kube-proxy dumps.

use std::path::Path;

use ipt::load::{LoadOptions, load};
use ipt::nft::{Input, Options, translate};
use ipt::source::Source;

use crate::kube_dump;
use crate::netns::{nft_load, require_kernel, require_nft};

fn translated(name: &str, text: &str, optimize: bool) -> Option<String> {
    let source = Source::new(name.to_string(), text.to_string());
    let loaded = load(&source, &LoadOptions::default());
    assert!(loaded.loads(), "{name} does not load: {:?}", loaded.diagnostics);
    let options = Options { optimize, ..Options::default() };
    let t = translate(&[Input { source: &source, ruleset: &loaded.ruleset }], &options);
    t.complete().then(|| t.script.text(name))
}

/// Whether this kernel can load `queue` (nft_queue), asked in a private namespace.
fn kernel_has_nft_queue() -> bool {
    nft_load("table ip probe {\n chain c {\n type filter hook input priority 0;\n queue num 0\n }\n}\n", false).is_ok()
}

#[test]
fn every_translated_fixture_loads_into_the_kernel() {
    require_kernel();
    require_nft();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut failures = Vec::new();
    let mut loaded = 0;
    let mut unloadable = Vec::new();
    for dir in ["translate", "nft-mapping"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("fixtures")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "rules"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).expect("fixture");
            let name = path.display().to_string();
            for optimize in [true, false] {
                let Some(script) = translated(&name, &text, optimize) else { continue };
                loaded += 1;
                // this kernel may lack nft's queue expression (CONFIG_NFT_QUEUE); then neither
                // `nft -f` nor `nft -c` (which asks the kernel too) can take a script that uses it
                if script.contains("\t\tqueue ") && !kernel_has_nft_queue() {
                    eprintln!("{name}: not loaded: this kernel has no nft queue expression (CONFIG_NFT_QUEUE)");
                    unloadable.push(name.clone());
                    continue;
                }
                if let Err(e) = nft_load(&script, false) {
                    failures.push(format!("{name} (optimize {optimize}): {e}"));
                }
            }
        }
    }
    assert!(loaded >= 20, "only {loaded} translations loaded");
    // only the queue fixture may be left out, and only on a kernel without nft_queue
    assert!(unloadable.iter().all(|n| n.ends_with("15-queue.rules")), "{unloadable:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_kube_proxy_dump_translates_and_loads() {
    require_kernel();
    require_nft();
    let dump = kube_dump::kube_dump(2000, 3);
    for optimize in [true, false] {
        let script = translated("kube2000.rules", &dump, optimize).expect("kube-proxy dumps translate");
        if optimize {
            // KUBE-SERVICES, called from PREROUTING and OUTPUT, is one named map they both name
            assert!(script.contains("\tmap KUBE-SERVICES {\n\t\ttype ipv4_addr . inet_service : verdict\n"));
            assert_eq!(script.matches("ip daddr . th dport vmap @KUBE-SERVICES").count(), 2, "no verdict map");
        }
        nft_load(&script, false).unwrap_or_else(|e| panic!("optimize {optimize}: {e}"));
    }
}
