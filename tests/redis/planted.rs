//! Bytes planted by someone who may write to the server: a miss, counted and
//! overwritten, never a wrong value or an aborted process.

use super::*;
use jwm_cache::backend::HEADER_LEN;

/// A tree of any depth: each level a newtype around a sequence.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Tree(Vec<Tree>);

#[tokio::test]
async fn a_value_planted_deeper_than_the_decoder_goes_is_a_counted_miss() {
    let server = RedisServer::start();
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let bush = AsyncMemoized::builder(move |n: u64| {
        counted.fetch_add(1, SeqCst);
        async move { Tree(vec![Tree(Vec::new()); n as usize]) }
    })
    .identifier("planted")
    .build_with_redis(RedisBackend::open(&server.url(0)).unwrap());
    let two = Tree(vec![Tree(Vec::new()), Tree(Vec::new())]);
    assert_eq!(bush.call(2).await, two);
    let mut raw = server.client(0);
    let keys: Vec<String> = raw.keys("jwm-cache:planted:*").unwrap();
    let [key] = &keys[..] else {
        panic!("one entry stored: {keys:?}")
    };
    let stored: Vec<u8> = raw.get(key).unwrap();
    // The record's deadline and the value's header kept, then a million levels of
    // `Tree`, each a sequence of one: the length 1, then the next; the last is empty.
    let mut planted = stored[..DEADLINE_LEN + HEADER_LEN].to_vec();
    planted.extend(std::iter::repeat_n(1u8, 1_000_000));
    planted.push(0);
    let _: () = raw.set(key, &planted).unwrap();

    assert_eq!(bush.call(2).await, two, "recomputed, not read");
    assert_eq!(runs.load(SeqCst), 2);
    assert_eq!(
        bush.cache_info().await.errors,
        1,
        "the planted bytes counted"
    );
    let rewritten: Vec<u8> = raw.get(key).unwrap();
    assert_eq!(
        rewritten[DEADLINE_LEN..],
        stored[DEADLINE_LEN..],
        "overwritten"
    );
    assert_eq!(bush.call(2).await, two);
    assert_eq!(runs.load(SeqCst), 2, "the rewritten entry hits");
}
