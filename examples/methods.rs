//! Memoized methods: a struct holding one, and one shared by many instances.
//!
//! Run with `cargo run --example methods`.

use std::sync::atomic::{AtomicUsize, Ordering};

use jwm_cache::{CacheControls, Memoized, MemoizedMethod, SyncCache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

/// A shape whose area is expensive; its `id` is the cache key of its receiver.
struct Shape {
    id: u32,
    side: u64,
}

fn area(shape: &Shape, scale: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    shape.side * shape.side * scale
}

type AreaMethod =
    MemoizedMethod<fn(&Shape) -> u32, fn(&Shape, u64) -> u64, SyncCache<(u32, u64), u64>>;

/// A struct that owns its memoized method.
struct Drawing {
    areas: AreaMethod,
    shapes: Vec<Shape>,
}

impl Drawing {
    fn total_area(&self) -> u64 {
        self.shapes.iter().map(|s| self.areas.call(s, 1)).sum()
    }
}

fn main() {
    // One memoized method shared by many instances: entries are per receiver key.
    let shapes: Vec<Shape> = (0..4)
        .map(|id| Shape {
            id,
            side: u64::from(id) + 1,
        })
        .collect();
    let memo_area: AreaMethod = MemoizedMethod::new(|s: &Shape| s.id, area);
    for _ in 0..3 {
        for shape in &shapes {
            memo_area.call(shape, 2);
        }
    }
    let info = memo_area.cache_info();
    println!(
        "shared method: {} calls, {} runs, hits={} misses={}",
        3 * shapes.len(),
        RUNS.load(Ordering::Relaxed),
        info.hits,
        info.misses
    );

    // Two receivers share an entry only when their keys are equal.
    let twin = Shape { id: 0, side: 1 };
    let before = RUNS.load(Ordering::Relaxed);
    memo_area.call(&twin, 2);
    println!(
        "an equal key hits: {} new runs",
        RUNS.load(Ordering::Relaxed) - before
    );

    // Binding a receiver is a closure; another binding cannot overwrite it.
    let (c1, c2) = (&shapes[1], &shapes[2]);
    let mm = |k| memo_area.call(c1, k);
    let _c2_bound = |k| memo_area.call(c2, k);
    println!("mm(7) uses c1: {}", mm(7));

    // A struct holding its own memoized method.
    let drawing = Drawing {
        areas: MemoizedMethod::new(|s: &Shape| s.id, area),
        shapes,
    };
    println!(
        "total area {} then {}",
        drawing.total_area(),
        drawing.total_area()
    );
    println!("drawing's method: {:?}", drawing.areas.cache_info());

    // A plain memoized function for comparison.
    let perimeter = Memoized::new(|side: u64| 4 * side);
    println!("perimeter(5) = {}", perimeter.call(5));
}
