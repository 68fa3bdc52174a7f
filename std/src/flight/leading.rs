//! The flights a computation leads, while it is polled. A call from inside a
//! computation for its own key must not wait for itself; calls joined beside it in the
//! same task (`join!`, `join_all`, a buffered stream) wait for it as other tasks' do.
//! The task alone cannot tell them apart; the computation's scope can.

use std::future::Future;

tokio::task_local! {
    /// The flights the computation being polled leads, the innermost last.
    static LEADING: Vec<usize>;
}

/// `computation`, polled as the computation of the flight `id`, inside those the
/// computation polling it leads, if any.
pub(crate) async fn computing<F: Future>(id: usize, computation: F) -> F::Output {
    let mut leading = LEADING.try_with(Clone::clone).unwrap_or_default();
    leading.push(id);
    LEADING.scope(leading, computation).await
}

/// Whether the computation being polled leads the flight `id`, or runs inside one that
/// does.
pub(crate) fn within(id: usize) -> bool {
    LEADING
        .try_with(|leading| leading.contains(&id))
        .unwrap_or(false)
}
