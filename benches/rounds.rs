//! What the near tier's benchmarks share: medians of interleaved rounds, and tasks
//! calling at once.

use std::future::Future;
use std::time::Instant;

use tokio::runtime::Runtime;

/// Rounds per figure: every contender runs once per round.
pub const ROUNDS: usize = 11;
/// Tasks calling at once.
pub const TASKS: usize = 64;
/// Keys in the hot set.
pub const KEYS: u64 = 1_000;

/// The median of `samples`.
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Calls per second of `TASKS` tasks making `calls` calls each.
pub fn run_tasks<F, Fut>(rt: &Runtime, calls: u64, call: F) -> f64
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..TASKS as u64)
            .map(|t| {
                let call = call.clone();
                tokio::spawn(async move {
                    for i in 0..calls {
                        call((t * 7919 + i) % KEYS).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        (TASKS as u64 * calls) as f64 / start.elapsed().as_secs_f64()
    })
}
