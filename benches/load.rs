//! Times ipt's reading and checking of kube-proxy-shaped dumps of 1k, 10k and 100k services, in
//! process (`cargo bench --bench load`). The side-by-side comparison with iptables-restore is
//! `scripts/bench.sh`; the figures are in docs/benchmarks.md.

mod kube_dump;
mod support;

use support::best_of;

use ipt::load::{LoadOptions, load};
use ipt::source::Source;

fn main() {
    for services in [1_000, 10_000, 100_000] {
        let text = kube_dump::kube_dump(services, 3);
        let lines = text.lines().count();
        let source = Source::new(format!("kube{services}"), text);
        let runs = if services >= 100_000 { 2 } else { 5 };
        let time = best_of(runs, || {
            let loaded = load(&source, &LoadOptions::default());
            assert!(loaded.loads());
            std::mem::forget(loaded);
        });
        let mb = source.text().len() as f64 / 1e6;
        println!(
            "load+check {services:>6} services: {lines:>8} lines, {mb:6.1} MB in {:>8.1} ms ({:.0} MB/s)",
            time.as_secs_f64() * 1e3,
            mb / time.as_secs_f64()
        );
    }
}
