mod cli;
mod docs;
mod explain;
#[path = "../tier/explain_vs_kernel.rs"]
pub mod explain_vs_kernel;
mod fixtures;
#[path = "../../benches/kube_dump.rs"]
mod kube_dump;
mod lint;
mod roundtrip;
mod save_vectors;
pub mod support;
mod targets_extra;
mod translate;
mod translate_json;
