//! A real `redis-server` on a free loopback port, started and killed by the tests.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// A `redis-server` child process; killed when dropped.
pub(crate) struct RedisServer {
    pub(crate) port: u16,
    password: Option<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port of 127.0.0.1, without persistence.
    pub(crate) fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts a server that requires `password`. A port another process took between
    /// `free_port` and the start is given up for another, a few times.
    pub(crate) fn start_with(password: Option<&str>) -> Self {
        for _ in 0..4 {
            let mut server = RedisServer {
                port: free_port(),
                password: password.map(str::to_string),
                child: None,
            };
            if server.try_restart() {
                return server;
            }
        }
        panic!("redis-server could not start on four free ports in a row");
    }

    /// `redis://127.0.0.1:port/db`, with the password if any.
    /// A backend on this server (db 0), made on `bridge`, whose runtime then drives its
    /// connections, so callers blocking their own runtime cannot stall them. Its timeout
    /// is generous: tests that count hits must not see a loaded machine's slow call, or
    /// a forked child's first connection, as a miss.
    pub(crate) fn backend_on(&self, bridge: &jwm_cache::Bridge) -> jwm_cache::RedisBackend<u64> {
        let url = self.url(0);
        let options = jwm_cache::RedisOptions::default().timeout(Duration::from_secs(2));
        bridge
            .run(async move { jwm_cache::RedisBackend::<u64>::open_with(&url, options) })
            .unwrap()
            .unwrap()
    }

    pub(crate) fn url(&self, db: u8) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}/{db}", self.port),
            None => format!("redis://127.0.0.1:{}/{db}", self.port),
        }
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as with
    /// a stalled or overloaded server.
    pub(crate) fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server run again (SIGCONT).
    pub(crate) fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("a running server").id();
        let sent = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status();
        assert!(
            sent.is_ok_and(|s| s.success()),
            "kill {signal} {pid} failed"
        );
    }

    /// Starts the server again on the same port (empty: it keeps nothing on disk).
    pub(crate) fn restart(&mut self) {
        assert!(
            self.try_restart(),
            "redis-server on port {} exited at its start: the port was taken",
            self.port
        );
    }

    /// [`restart`](Self::restart), false if the server exited at its start.
    fn try_restart(&mut self) -> bool {
        self.kill();
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = &self.password {
            command.args(["--requirepass", p]);
        }
        let child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start redis-server ({e}): the Redis tests need it on PATH; \
                 install Debian's `redis-server` package (apt-get install -y redis-server)"
            )
        });
        self.child = Some(child);
        self.wait_until_ready()
    }

    /// Polls until this server, not another on the port, answers: its `INFO` names the
    /// child's process. At most 10 s; false at once if the child exits (the port was
    /// taken between `free_port` and the start, say).
    fn wait_until_ready(&mut self) -> bool {
        let started = Instant::now();
        let (url, port) = (self.url(0), self.port);
        let child = self.child.as_mut().expect("a started server");
        let pid = child.id();
        let mut answered = None;
        while started.elapsed() < Duration::from_secs(10) {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            answered = process_id(&url);
            if answered == Some(pid) {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "redis-server (pid {pid}) on port {port} did not answer within 10 s; \
             the port answered as pid {answered:?}"
        );
    }

    /// A plain synchronous client that gives up after `timeout` connecting, reading or
    /// writing: for callers that must not hang on a frozen or dead server.
    pub(crate) fn client_with_timeout(
        &self,
        db: u8,
        timeout: Duration,
    ) -> redis::RedisResult<redis::Connection> {
        let connection = redis::Client::open(self.url(db))?.get_connection_with_timeout(timeout)?;
        connection.set_read_timeout(Some(timeout))?;
        connection.set_write_timeout(Some(timeout))?;
        Ok(connection)
    }

    /// A plain synchronous client, to look at what the cache stored.
    pub(crate) fn client(&self, db: u8) -> redis::Connection {
        redis::Client::open(self.url(db))
            .and_then(|c| c.get_connection())
            .expect("a raw connection to the test server")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The process id the server at `url` reports, if it answers.
fn process_id(url: &str) -> Option<u32> {
    let client = redis::Client::open(url).ok()?;
    let mut connection = client
        .get_connection_with_timeout(Duration::from_secs(1))
        .ok()?;
    connection
        .set_read_timeout(Some(Duration::from_secs(1)))
        .ok()?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(&mut connection)
        .ok()?;
    info.lines()
        .find_map(|line| line.trim().strip_prefix("process_id:")?.parse().ok())
}

/// A port nobody listens on now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `INFO commandstats`, as command name and calls.
pub(crate) fn command_calls(
    raw: &mut redis::Connection,
) -> std::collections::BTreeMap<String, u64> {
    let info: String = redis::cmd("INFO").arg("commandstats").query(raw).unwrap();
    let calls = |line: &str| {
        let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
        let calls = stats.strip_prefix("calls=")?.split(',').next()?;
        Some((name.to_string(), calls.parse().ok()?))
    };
    info.lines().filter_map(calls).collect()
}

/// The URL a test put in `cell` (an unused port until then): for `#[ttl_cache]`
/// functions, whose caches are statics built on their first call.
pub(crate) fn url_in(cell: &std::sync::OnceLock<String>) -> &str {
    cell.get().map_or("redis://127.0.0.1:1/", String::as_str)
}

/// Runs the `redis_shared` example (built beside the test binaries) on `target`, a
/// server's URL or a cluster's seeds joined by commas, over `keys` keys under
/// `identifier`; its one line, `computed=C hits=H misses=M errors=E`.
pub(crate) fn run_shared_example(target: &str, identifier: &str, keys: u64) -> String {
    let example = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("examples").join("redis_shared"))
        .unwrap();
    assert!(
        example.exists(),
        "build the example first: {}",
        example.display()
    );
    let child = Command::new(&example)
        .args([target, identifier, &keys.to_string()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = output_within(child, 120);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// What `child` printed and how it ended, once it exits; killed, failing the test, if it
/// runs past `seconds`. Its pipes are drained meanwhile, so a chatty child never blocks.
pub(crate) fn output_within(mut child: std::process::Child, seconds: u64) -> std::process::Output {
    use std::io::Read;
    fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let began = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if began.elapsed() > Duration::from_secs(seconds) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a child process ran past {seconds} s");
        }
        thread::sleep(Duration::from_millis(10));
    };
    std::process::Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}
