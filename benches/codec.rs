//! What the header of a value in Redis costs: decoding and encoding a value with plain
//! postcard against postcard behind the `Stamped` header (magic, version, fingerprint
//! of codec, key type and value type, then strict decoding), side by side; and what the
//! codec's depth bound costs, against the postcard crate's own `from_bytes`.
//!
//! ```sh
//! cargo bench -p jwm-cache-benches --bench codec
//! python3 benches/tools/medians.py stamped_decode "postcard"
//! python3 benches/tools/medians.py stamped_encode "postcard"
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jwm_cache::codec::{Postcard, Serializer, Stamped};

/// A typical cached value: a short record.
type Profile = (u64, String, Vec<u32>);

fn profile() -> Profile {
    (42, "user-42 in Oslo".to_string(), vec![1, 2, 3, 5, 8, 13])
}

/// A value with more levels: records in a sequence, each with an optional list.
type Orders = Vec<(u32, Option<Vec<(u16, String)>>)>;

fn orders() -> Orders {
    (0..16)
        .map(|n| (n, (n % 2 == 0).then(|| vec![(7, "sku-7".to_string()); 3])))
        .collect()
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("stamped_decode");
    let stamped = Stamped::<_, u64>::new(Postcard);
    let plain_u64 = Serializer::<u64>::encode(&Postcard, &300).unwrap();
    let stamped_u64 = Serializer::<u64>::encode(&stamped, &300).unwrap();
    let plain_profile = Serializer::<Profile>::encode(&Postcard, &profile()).unwrap();
    let stamped_profile = Serializer::<Profile>::encode(&stamped, &profile()).unwrap();
    group.bench_function("postcard u64", |b| {
        b.iter(|| Serializer::<u64>::decode(&Postcard, black_box(&plain_u64)))
    });
    group.bench_function("stamped postcard u64", |b| {
        b.iter(|| Serializer::<u64>::decode(&stamped, black_box(&stamped_u64)))
    });
    group.bench_function("postcard profile", |b| {
        b.iter(|| Serializer::<Profile>::decode(&Postcard, black_box(&plain_profile)))
    });
    group.bench_function("stamped postcard profile", |b| {
        b.iter(|| Serializer::<Profile>::decode(&stamped, black_box(&stamped_profile)))
    });
    group.finish();

    // The depth bound: our codec against the crate alone (which neither bounds the
    // depth nor refuses trailing bytes).
    let mut group = c.benchmark_group("depth_bound");
    let plain_orders = Serializer::<Orders>::encode(&Postcard, &orders()).unwrap();
    group.bench_function("postcard crate profile", |b| {
        b.iter(|| postcard::from_bytes::<Profile>(black_box(&plain_profile)))
    });
    group.bench_function("Postcard profile", |b| {
        b.iter(|| Serializer::<Profile>::decode(&Postcard, black_box(&plain_profile)))
    });
    group.bench_function("postcard crate orders", |b| {
        b.iter(|| postcard::from_bytes::<Orders>(black_box(&plain_orders)))
    });
    group.bench_function("Postcard orders", |b| {
        b.iter(|| Serializer::<Orders>::decode(&Postcard, black_box(&plain_orders)))
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("stamped_encode");
    let stamped = Stamped::<_, u64>::new(Postcard);
    let value = profile();
    group.bench_function("postcard profile", |b| {
        b.iter(|| Serializer::<Profile>::encode(&Postcard, black_box(&value)))
    });
    group.bench_function("stamped postcard profile", |b| {
        b.iter(|| Serializer::<Profile>::encode(&stamped, black_box(&value)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = decode, encode
}
criterion_main!(benches);
