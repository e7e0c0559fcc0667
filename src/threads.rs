//! How many threads the loader and the checker use: `IPT_THREADS` if set, else one per core
//! (at most 8).

/// The number of threads to run work on (at least 1).
pub fn count() -> usize {
    std::env::var("IPT_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(8))
        .max(1)
}
