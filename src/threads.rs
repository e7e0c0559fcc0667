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

/// Below this many rules a table is worked on by one thread.
pub const PARALLEL_RULES: usize = 20_000;

/// Runs `work` over a table's chains on up to `threads` threads (one when the table has fewer
/// than [`PARALLEL_RULES`] rules): consecutive runs of chains with about as many rules each,
/// side by side. The results come back in chain order, as one pass over all chains gives them.
pub fn over_chains<T: Send>(
    table: &crate::model::Table,
    threads: usize,
    work: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync,
) -> Vec<T> {
    let rules = table.rule_count();
    if threads <= 1 || rules < PARALLEL_RULES {
        return work(0..table.chains.len());
    }
    let mut parts = Vec::with_capacity(threads);
    let (mut start, mut counted) = (0, 0);
    for (c, chain) in table.chains.iter().enumerate() {
        counted += chain.rules.len();
        if counted * threads >= rules * (parts.len() + 1) || c + 1 == table.chains.len() {
            parts.push(start..c + 1);
            start = c + 1;
        }
    }
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts.into_iter().map(|part| scope.spawn(move || work(part))).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}
