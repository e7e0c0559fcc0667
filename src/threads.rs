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
    let mut parts = side_by_side(chain_runs(table.chains.iter().map(|c| c.rules.len()), threads), work);
    if parts.len() == 1 {
        return parts.pop().unwrap_or_default();
    }
    parts.into_iter().flatten().collect()
}

/// Consecutive runs of chains, given by their rule counts, to work on side by side: one per
/// thread of `threads`, of about as many rules each; one run in all below [`PARALLEL_RULES`].
pub fn chain_runs(rules: impl ExactSizeIterator<Item = usize> + Clone, threads: usize) -> Vec<std::ops::Range<usize>> {
    let total: usize = rules.clone().sum();
    runs(rules, total, if total < PARALLEL_RULES { 1 } else { threads })
}

/// Consecutive runs of items (given by their sizes, `total` in all) of about `total / threads`
/// each.
pub fn runs(sizes: impl ExactSizeIterator<Item = usize>, total: usize, threads: usize) -> Vec<std::ops::Range<usize>> {
    let len = sizes.len();
    if total == 0 || threads <= 1 {
        return std::iter::once(0..len).collect();
    }
    let mut runs = Vec::with_capacity(threads);
    let (mut start, mut counted) = (0, 0);
    for (i, size) in sizes.enumerate() {
        counted += size;
        if counted * threads >= total * (runs.len() + 1) || i + 1 == len {
            runs.push(start..i + 1);
            start = i + 1;
        }
    }
    runs
}

/// `work` over each run on a thread of its own (the last on this one); the results in the runs'
/// order.
pub fn side_by_side<T: Send>(
    mut runs: Vec<std::ops::Range<usize>>,
    work: impl Fn(std::ops::Range<usize>) -> T + Sync,
) -> Vec<T> {
    // the last run on this thread, which would otherwise only wait (a single run: no thread)
    let Some(last) = runs.pop() else { return Vec::new() };
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs.into_iter().map(|run| scope.spawn(move || work(run))).collect();
        let last = work(last);
        let mut results: Vec<T> =
            handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect();
        results.push(last);
        results
    })
}
