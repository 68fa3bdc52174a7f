//! A TCP proxy in front of a server whose open connections can be made to stall, as a
//! socket to a host that died without a reset does (a failover behind one address):
//! the proxy then forwards nothing on them, and closes nothing, while new connections
//! go through as before. It can also slow every reply to a set rate, as a link too slow
//! for a large value does.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

/// The proxy, listening on a free loopback port until dropped.
pub(crate) struct BlackHole {
    port: u16,
    /// Connections accepted before this many holes were made stall.
    holes: Arc<AtomicU64>,
    stopped: Arc<AtomicBool>,
}

impl BlackHole {
    /// A proxy to `127.0.0.1:target`.
    pub(crate) fn to(target: u16) -> Self {
        Self::at_rate(target, None)
    }

    /// A proxy to `127.0.0.1:target` that sends replies at `bytes_per_second` at most,
    /// on each connection.
    pub(crate) fn throttled(target: u16, bytes_per_second: u64) -> Self {
        Self::at_rate(target, Some(bytes_per_second))
    }

    fn at_rate(target: u16, replies_rate: Option<u64>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (holes, stopped) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let (made, stop) = (Arc::clone(&holes), Arc::clone(&stopped));
        thread::spawn(move || {
            while !stop.load(SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let server = TcpStream::connect(("127.0.0.1", target)).unwrap();
                        let generation = made.load(SeqCst);
                        for (from, to, rate) in [
                            (
                                client.try_clone().unwrap(),
                                server.try_clone().unwrap(),
                                None,
                            ),
                            (server, client, replies_rate),
                        ] {
                            let (holes, stop) = (Arc::clone(&made), Arc::clone(&stop));
                            thread::spawn(move || {
                                forward(from, to, rate, generation, &holes, &stop)
                            });
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => return,
                }
            }
        });
        BlackHole {
            port,
            holes,
            stopped,
        }
    }

    /// A URL of the server through the proxy.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Every connection open now stalls for good; later ones forward.
    pub(crate) fn swallow_open_connections(&self) {
        self.holes.fetch_add(1, SeqCst);
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stopped.store(true, SeqCst);
    }
}

/// Copies `from` to `to` (at `rate` bytes a second at most, if given) while the
/// connection, accepted at `generation`, is not swallowed; then holds both open,
/// forwarding nothing, until the proxy stops.
fn forward(
    mut from: TcpStream,
    mut to: TcpStream,
    rate: Option<u64>,
    generation: u64,
    holes: &AtomicU64,
    stop: &AtomicBool,
) {
    from.set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let mut buffer = [0u8; 16 * 1024];
    while !stop.load(SeqCst) {
        if holes.load(SeqCst) > generation {
            thread::sleep(Duration::from_millis(10));
            continue;
        }
        match from.read(&mut buffer) {
            Ok(0) => break,
            // Swallowed while it waited: what it read goes nowhere.
            Ok(_) if holes.load(SeqCst) > generation => {}
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
                if let Some(rate) = rate {
                    thread::sleep(Duration::from_secs_f64(n as f64 / rate as f64));
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Both);
}
