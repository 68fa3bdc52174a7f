//! `examples/axum_server.rs` served on a loopback port and called over real HTTP: the
//! memoized handles in the axum state hit and miss as they should.

#[path = "../examples/axum_server.rs"]
mod axum_server;

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// `(hits, misses, lookups)` from `/stats`.
async fn stats(address: SocketAddr) -> (u64, u64, u64, u64) {
    let (_, body) = get(address, "/stats").await;
    let field = |name: &str| -> u64 {
        let start = body.find(name).expect(name) + name.len() + 1;
        let digits: String = body[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap()
    };
    (
        field("hits"),
        field("misses"),
        field("coalesced"),
        field("lookups"),
    )
}

/// `GET path` over a fresh HTTP/1.1 connection: the status code and the body.
async fn get(address: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a whole response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

#[tokio::test]
async fn requests_share_the_memoized_handles_in_the_state() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = axum_server::AppState::new();
    let app = axum_server::app(state.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    assert_eq!(get(address, "/users/7").await, (200, "user 7".to_string()));
    assert_eq!(
        get(address, "/stats").await.1,
        "hits=0 misses=1 coalesced=0 lookups=1"
    );
    assert_eq!(get(address, "/users/7").await, (200, "user 7".to_string()));
    assert_eq!(get(address, "/users/8").await, (200, "user 8".to_string()));
    assert_eq!(
        get(address, "/stats").await.1,
        "hits=1 misses=2 coalesced=0 lookups=2"
    );

    // Concurrent requests for one new user: one lookup reaches the store, one miss. A
    // request that arrives while it runs waits for it and is coalesced; one that
    // arrives after it is a hit.
    let requests: Vec<_> = (0..8)
        .map(|_| tokio::spawn(get(address, "/users/9")))
        .collect();
    for request in requests {
        assert_eq!(request.await.unwrap(), (200, "user 9".to_string()));
    }
    let (hits, misses, coalesced, lookups) = stats(address).await;
    assert_eq!((hits + misses + coalesced, misses, lookups), (11, 3, 3));

    // The state the server holds is the one the test holds: clones share the caches.
    assert_eq!(state.profile.cache_remove(&7).await, Ok(true));
    assert_eq!(get(address, "/users/7").await.1, "user 7");
    let (hits_after, misses_after, _, lookups) = stats(address).await;
    assert_eq!((hits_after, misses_after, lookups), (hits, misses + 1, 4));

    assert_eq!(get(address, "/slugs/Hello%20World").await.1, "hello-world");
    assert_eq!(
        state.slug.cache_remove(&"Hello World".to_string()),
        Ok(true)
    );
    assert_eq!(get(address, "/nowhere").await.0, 404);
    server.abort();
}
