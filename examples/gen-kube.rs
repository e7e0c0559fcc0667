//! Writes a kube-proxy-shaped dump to standard output, for benchmarks:
//! `cargo run --release --example gen-kube -- 10000 > kube10k.rules` (N services, and
//! optionally the endpoints per service, 3 by default).

#[path = "../benches/kube_dump.rs"]
mod kube_dump;

fn main() {
    let mut args = std::env::args().skip(1);
    let services = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let endpoints = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    print!("{}", kube_dump::kube_dump(services, endpoints));
}
