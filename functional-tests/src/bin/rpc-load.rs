//! `rpc-load`: throughput and latency of the node's JSON-RPC HTTP server under load.
//!
//! A benchmark, not a test: it prints figures and never fails on them. It starts a real
//! `mpx-node` on a temporary datadir and a free loopback port (or uses a running node given
//! with `--connect`), then runs these phases, each for `--duration` seconds after a
//! `--warmup`, with `--clients` threads calling `getblockcount`:
//!
//! * `keepalive`: each client keeps one HTTP/1.1 connection open and sends its requests on it
//!   one after the other (`Content-Length` bodies, `Content-Length` replies).
//! * `newconn`: each client opens a new connection per request (`Connection: close`), as
//!   `mpx-cli` and bitcoin-cli do.
//! * `slow`: `keepalive` while `--slow` other connections are held open: four in five send a
//!   request head with `Content-Length: --slow-body` and then one body byte per second, the
//!   fifth sends nothing at all. A slow connection the server drops is counted
//!   (`slow_dropped`) and opened again, so the phase may be longer than the server's timeout.
//! * `idle`: `keepalive` while `--idle` connections are open and silent.
//!
//! Each phase prints one line:
//!
//! ```text
//! rpc-load keepalive clients=16 requests=52130 req/s=5213 p50_ms=2.81 p99_ms=9.90 max_ms=31.2 errors=0 timeouts=0 node_cpu=97% node_threads=21 load=1.95,1.40,1.10
//! ```
//!
//! `errors` counts failed requests (connection refused or reset, a status other than 200, a
//! reply without a result); `timeouts` those of them with no reply within
//! [`REQUEST_TIMEOUT`]. `node_cpu` (share of one core over the measured window) and
//! `node_threads` are read from `/proc` for a node started here; `load` is `/proc/loadavg`
//! (what `uptime` shows) at the end of the phase.
//!
//! The node process is killed when the run ends, also on a panic (a drop guard) and when this
//! process dies (`PR_SET_PDEATHSIG`); every client thread stops by the end of its phase plus
//! [`REQUEST_TIMEOUT`].
//!
//! ```text
//! cargo build --release -p mpx-node -p mpx-functional-tests --bin rpc-load
//! target/release/rpc-load                       # mpx-node next to it, or $MPX_BIN_DIR, or --node
//! target/release/rpc-load --connect 127.0.0.1:18443 --cookie ~/.mpx/regtest/.cookie --phases keepalive
//! ```

use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use base64::Engine as _;
use functional_tests::{binary, die_with_parent, Binary};

/// How long one request may take before it counts as a timeout (and its connection is
/// dropped); also bounds how long a phase can overrun its duration.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a started node may take to answer its first request.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Pause after a failed request before the client tries again (no busy loop against a dead
/// server).
const ERROR_BACKOFF: Duration = Duration::from_millis(10);
/// One slow connection in this many sends nothing at all; the others drip their body.
const SILENT_EVERY: usize = 5;
/// Pause between phases, for the connections of the last one to close.
const SETTLE: Duration = Duration::from_millis(500);
const BODY: &str = r#"{"jsonrpc":"1.0","id":"rpc-load","method":"getblockcount","params":[]}"#;

const USAGE: &str = "\
usage: rpc-load [options]
  --node PATH          mpx-node to start (default: $MPX_BIN_DIR/mpx-node, else next to rpc-load)
  --node-arg ARG       extra option for the started node (repeatable), e.g. --node-arg=-rpcthreads=4
  --connect HOST:PORT  use a running node instead of starting one
  --user U --password P | --cookie FILE   its credentials (with --connect)
  --phases LIST        comma-separated, from keepalive,newconn,slow,idle (default: all four)
  --duration SECS      measured time per phase (default 10)
  --warmup SECS        unmeasured time before it (default 1)
  --clients N          concurrent getblockcount clients (default 16)
  --slow N             slow connections in the slow phase (default 100)
  --slow-body BYTES    Content-Length the slow connections announce (default 1000)
  --idle N             silent connections in the idle phase (default 100)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    KeepAlive,
    NewConn,
    Slow,
    Idle,
}

impl Phase {
    fn parse(name: &str) -> Result<Phase, String> {
        match name {
            "keepalive" => Ok(Phase::KeepAlive),
            "newconn" => Ok(Phase::NewConn),
            "slow" => Ok(Phase::Slow),
            "idle" => Ok(Phase::Idle),
            other => Err(format!("unknown phase '{other}'")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Phase::KeepAlive => "keepalive",
            Phase::NewConn => "newconn",
            Phase::Slow => "slow",
            Phase::Idle => "idle",
        }
    }
}

#[derive(Debug)]
enum Target {
    Start { node: Option<PathBuf>, node_args: Vec<String> },
    Connect { addr: String, user: Option<String>, password: Option<String>, cookie: Option<PathBuf> },
}

#[derive(Debug)]
struct Options {
    target: Target,
    phases: Vec<Phase>,
    duration: Duration,
    warmup: Duration,
    clients: usize,
    slow: usize,
    slow_body: usize,
    idle: usize,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut node = None;
    let mut node_args = Vec::new();
    let (mut connect, mut user, mut password, mut cookie) = (None, None, None, None);
    let mut phases = vec![Phase::KeepAlive, Phase::NewConn, Phase::Slow, Phase::Idle];
    let (mut duration, mut warmup) = (10.0, 1.0);
    let (mut clients, mut slow, mut slow_body, mut idle) = (16, 100, 1000, 100);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_string(), Some(value.to_string())),
            _ => (arg.clone(), None),
        };
        if name == "--help" || name == "-h" {
            return Err(USAGE.to_string());
        }
        let mut value = || inline.clone().or_else(|| args.next()).ok_or(format!("{name} needs a value"));
        let number = |text: String| text.parse::<f64>().map_err(|_| format!("{name}: not a number: {text}"));
        let count = |text: String| text.parse::<usize>().map_err(|_| format!("{name}: not a count: {text}"));
        match name.as_str() {
            "--node" => node = Some(PathBuf::from(value()?)),
            "--node-arg" => node_args.push(value()?),
            "--connect" => connect = Some(value()?),
            "--user" => user = Some(value()?),
            "--password" => password = Some(value()?),
            "--cookie" => cookie = Some(PathBuf::from(value()?)),
            "--phases" => phases = value()?.split(',').map(Phase::parse).collect::<Result<_, _>>()?,
            "--duration" => duration = number(value()?)?,
            "--warmup" => warmup = number(value()?)?,
            "--clients" => clients = count(value()?)?,
            "--slow" => slow = count(value()?)?,
            "--slow-body" => slow_body = count(value()?)?,
            "--idle" => idle = count(value()?)?,
            _ => return Err(format!("unknown argument '{arg}'\n{USAGE}")),
        }
    }
    if !(duration > 0.0 && warmup >= 0.0) || clients == 0 || slow_body < 2 {
        return Err("--duration and --clients must be positive, --slow-body at least 2".to_string());
    }
    let target = match connect {
        Some(addr) => Target::Connect { addr, user, password, cookie },
        None if user.is_some() || password.is_some() || cookie.is_some() => {
            return Err("--user, --password and --cookie go with --connect".to_string());
        }
        None => Target::Start { node, node_args },
    };
    Ok(Options {
        target,
        phases,
        duration: Duration::from_secs_f64(duration),
        warmup: Duration::from_secs_f64(warmup),
        clients,
        slow,
        slow_body,
        idle,
    })
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)).and_then(|options| run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("rpc-load: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), String> {
    let (server, _node) = match &options.target {
        Target::Start { node, node_args } => {
            let path = node.clone().unwrap_or_else(|| binary(Binary::Node));
            let node = NodeProcess::start(&path, node_args)?;
            println!("rpc-load node={} pid={} addr={}", path.display(), node.child.id(), node.server.addr);
            (node.server.clone(), Some(node))
        }
        Target::Connect { addr, user, password, cookie } => {
            let addr = addr
                .to_socket_addrs()
                .map_err(|e| format!("--connect {addr}: {e}"))?
                .next()
                .ok_or(format!("--connect {addr}: no address"))?;
            let credentials = match (user, password, cookie) {
                (Some(user), Some(password), None) => format!("{user}:{password}"),
                (None, None, Some(cookie)) => std::fs::read_to_string(cookie)
                    .map_err(|e| format!("{}: {e}", cookie.display()))?
                    .trim()
                    .to_string(),
                _ => return Err("--connect needs --user and --password, or --cookie".to_string()),
            };
            let server = Server::new(addr, &credentials, None);
            server.call().map_err(|e| format!("{addr} does not answer getblockcount: {e}"))?;
            println!("rpc-load node={addr}");
            (server, None)
        }
    };
    println!(
        "rpc-load duration={:.1}s warmup={:.1}s clients={} cores={}",
        options.duration.as_secs_f64(),
        options.warmup.as_secs_f64(),
        options.clients,
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    for &phase in &options.phases {
        let report = run_phase(&server, options, phase);
        println!("{}", report.line(phase, options));
        std::thread::sleep(SETTLE);
    }
    Ok(())
}

/// Where requests go and what they carry.
#[derive(Debug, Clone)]
struct Server {
    addr: SocketAddr,
    /// The whole `getblockcount` request for a keep-alive connection, and for one closed after
    /// the reply.
    keep_alive: Arc<[u8]>,
    close: Arc<[u8]>,
    authorization: String,
    /// The node's pid when it was started here, for `/proc` figures.
    pid: Option<u32>,
}

impl Server {
    fn new(addr: SocketAddr, credentials: &str, pid: Option<u32>) -> Server {
        let authorization =
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(credentials));
        let request = |connection: &str| -> Arc<[u8]> {
            format!(
                "POST / HTTP/1.1\r\nHost: {addr}\r\nConnection: {connection}\r\nAuthorization: {authorization}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{BODY}",
                BODY.len()
            )
            .into_bytes()
            .into()
        };
        Server { addr, keep_alive: request("keep-alive"), close: request("close"), authorization, pid }
    }

    fn connect(&self) -> std::io::Result<TcpStream> {
        let stream = TcpStream::connect_timeout(&self.addr, REQUEST_TIMEOUT)?;
        stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
        stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
        // The request goes out in one write; no delay waiting for a segment to fill.
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    /// One request on a new connection, which the server closes after its reply.
    fn call(&self) -> Result<(), String> {
        let stream = self.connect().map_err(|e| e.to_string())?;
        let mut reader = BufReader::new(stream);
        exchange(&mut reader, &self.close)?;
        // Wait for the server's close, so the connection's TIME_WAIT stays on its side (as
        // with a client that reads to the end) and this side's ports are not used up.
        let _ = reader.read(&mut [0u8; 64]);
        Ok(())
    }
}

/// Writes `request` and reads its reply (the rpc client's HTTP response reader): a 200 with a
/// result.
fn exchange(reader: &mut BufReader<TcpStream>, request: &[u8]) -> Result<(), String> {
    reader.get_mut().write_all(request).map_err(|e| e.to_string())?;
    let response = cli::http::read_response(&mut *reader).map_err(|e| format!("{e:?}"))?;
    if response.status != 200 || !response.body.starts_with(b"{\"result\":") {
        return Err(format!("HTTP {}: {}", response.status, String::from_utf8_lossy(&response.body).trim()));
    }
    Ok(())
}

/// What the clients of one phase measured.
#[derive(Debug, Default)]
struct Report {
    /// Latency of each request started in the measured window, in microseconds.
    latencies: Vec<u32>,
    errors: u64,
    timeouts: u64,
    window: Duration,
    first_error: Option<String>,
    node_cpu: Option<f64>,
    node_threads: Option<u64>,
    held: Option<HeldSummary>,
}

#[derive(Debug)]
struct HeldSummary {
    kind: &'static str,
    count: usize,
    dropped: u64,
}

impl Report {
    fn line(&self, phase: Phase, options: &Options) -> String {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let ms =
            |micros: Option<u32>| micros.map_or("-".to_string(), |m| format!("{:.2}", f64::from(m) / 1000.0));
        let mut line = format!(
            "rpc-load {} clients={} requests={} req/s={:.0} p50_ms={} p99_ms={} max_ms={} errors={} timeouts={}",
            phase.name(),
            options.clients,
            sorted.len(),
            sorted.len() as f64 / self.window.as_secs_f64(),
            ms(percentile(&sorted, 0.50)),
            ms(percentile(&sorted, 0.99)),
            ms(sorted.last().copied()),
            self.errors,
            self.timeouts,
        );
        if let Some(held) = &self.held {
            line += &format!(" {}={} {}_dropped={}", held.kind, held.count, held.kind, held.dropped);
        }
        if let Some(cpu) = self.node_cpu {
            line += &format!(" node_cpu={:.0}%", cpu * 100.0);
        }
        if let Some(threads) = self.node_threads {
            line += &format!(" node_threads={threads}");
        }
        line += &format!(" load={}", load_average());
        if let Some(error) = &self.first_error {
            line += &format!(" first_error=\"{}\"", error.replace('"', "'"));
        }
        line
    }
}

/// The nearest-rank percentile of `sorted`.
fn percentile(sorted: &[u32], p: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `/proc/loadavg`'s three averages, as `uptime` prints them.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(",")
}

/// The CPU time `pid` has used so far (user + system), from `/proc/<pid>/stat`.
fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let ticks = u64::try_from(ticks).ok().filter(|&t| t > 0)?;
    Some(Duration::from_secs_f64((utime + stime) as f64 / ticks as f64))
}

/// The number of threads of `pid`, from `/proc/<pid>/status`.
fn process_threads(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| line.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok())
}

fn run_phase(server: &Server, options: &Options, phase: Phase) -> Report {
    let held = match phase {
        Phase::Slow => Some(Held::open(server, options.slow, "slow", options.slow_body)),
        Phase::Idle => Some(Held::open(server, options.idle, "idle", 0)),
        Phase::KeepAlive | Phase::NewConn => None,
    };
    let keep_alive = phase != Phase::NewConn;
    let start_barrier = Arc::new(Barrier::new(options.clients + 1));
    let window = Arc::new(std::sync::OnceLock::<(Instant, Instant)>::new());
    let threads: Vec<_> = (0..options.clients)
        .map(|n| {
            let (server, barrier, window) = (server.clone(), start_barrier.clone(), window.clone());
            std::thread::Builder::new()
                .name(format!("client.{n}"))
                .spawn(move || {
                    barrier.wait();
                    let (from, until) = *window.get().expect("window set before the barrier");
                    client(&server, keep_alive, from, until)
                })
                .expect("cannot start a client thread")
        })
        .collect();
    let from = Instant::now() + options.warmup;
    let until = from + options.duration;
    let _ = window.set((from, until));
    start_barrier.wait();
    std::thread::sleep(options.warmup);
    let cpu_before = server.pid.and_then(process_cpu);
    std::thread::sleep(options.duration / 2);
    let node_threads = server.pid.and_then(process_threads);
    std::thread::sleep(until.saturating_duration_since(Instant::now()));
    let cpu_after = server.pid.and_then(process_cpu);
    let mut report = Report { window: options.duration, node_threads, ..Report::default() };
    if let (Some(before), Some(after)) = (cpu_before, cpu_after) {
        report.node_cpu = Some((after - before).as_secs_f64() / options.duration.as_secs_f64());
    }
    for thread in threads {
        let outcome = thread.join().expect("a client thread panicked");
        report.latencies.extend(outcome.latencies);
        report.errors += outcome.errors;
        report.timeouts += outcome.timeouts;
        if report.first_error.is_none() {
            report.first_error = outcome.first_error;
        }
    }
    report.held = held.map(Held::close);
    report
}

#[derive(Debug, Default)]
struct ClientOutcome {
    latencies: Vec<u32>,
    errors: u64,
    timeouts: u64,
    first_error: Option<String>,
}

/// One client: requests back to back until `until`; those that start at or after `from` are
/// measured.
fn client(server: &Server, keep_alive: bool, from: Instant, until: Instant) -> ClientOutcome {
    let mut outcome = ClientOutcome::default();
    let mut connection: Option<BufReader<TcpStream>> = None;
    loop {
        let start = Instant::now();
        if start >= until {
            return outcome;
        }
        let result = if keep_alive {
            let reader = match connection.take() {
                Some(reader) => Ok(reader),
                None => server.connect().map(BufReader::new).map_err(|e| e.to_string()),
            };
            reader.and_then(|mut reader| {
                exchange(&mut reader, &server.keep_alive)?;
                connection = Some(reader);
                Ok(())
            })
        } else {
            server.call()
        };
        let end = Instant::now();
        // Each request started in the window counts, including the last one of each client,
        // which may end after it (so slow replies are not left out of the percentiles).
        let measured = start >= from;
        match result {
            Ok(()) if measured => {
                outcome.latencies.push(u32::try_from((end - start).as_micros()).unwrap_or(u32::MAX));
            }
            Ok(()) => {}
            Err(failure) => {
                if measured {
                    outcome.errors += 1;
                    // A socket timeout fired (connect, write or read): the server did not answer.
                    if end - start >= REQUEST_TIMEOUT {
                        outcome.timeouts += 1;
                    }
                    if outcome.first_error.is_none() {
                        outcome.first_error = Some(failure);
                    }
                }
                std::thread::sleep(ERROR_BACKOFF);
            }
        }
    }
}

/// Connections held open by one thread while a phase runs: `slow` ones send a request head
/// announcing `body` bytes and then one byte per second (every [`SILENT_EVERY`]th sends
/// nothing); `idle` ones send nothing. A connection the server closes is counted and opened
/// again.
struct Held {
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    thread: std::thread::JoinHandle<()>,
    count: usize,
    kind: &'static str,
}

/// How to open the `i`th held connection.
#[derive(Clone)]
struct HeldSpec {
    addr: SocketAddr,
    head: Vec<u8>,
    body: usize,
}

impl HeldSpec {
    fn dripping(&self, i: usize) -> bool {
        self.body > 0 && i % SILENT_EVERY != SILENT_EVERY - 1
    }

    fn open(&self, i: usize) -> Option<TcpStream> {
        let stream = TcpStream::connect_timeout(&self.addr, REQUEST_TIMEOUT).ok()?;
        stream.set_nonblocking(true).ok()?;
        if self.dripping(i) {
            // A head of a few hundred bytes fits the socket buffer: never blocks.
            (&stream).write_all(&self.head).ok()?;
        }
        Some(stream)
    }
}

impl Held {
    fn open(server: &Server, count: usize, kind: &'static str, body: usize) -> Held {
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {body}\r\n\r\n{{",
            server.addr, server.authorization
        )
        .into_bytes();
        let spec = HeldSpec { addr: server.addr, head, body };
        let mut connections: Vec<Option<TcpStream>> = (0..count).map(|i| spec.open(i)).collect();
        // Body bytes sent on each connection (the head carries the first).
        let mut sent = vec![1usize; count];
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let (thread_stop, thread_dropped) = (stop.clone(), dropped.clone());
        let thread = std::thread::Builder::new()
            .name(format!("{kind}-clients"))
            .spawn(move || {
                let mut tick = Instant::now();
                loop {
                    tick += Duration::from_secs(1);
                    while Instant::now() < tick {
                        if thread_stop.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    for (i, slot) in connections.iter_mut().enumerate() {
                        let alive = slot.as_ref().is_some_and(|stream| {
                            if !still_open(stream) {
                                return false;
                            }
                            // One more body byte, never the last (the request never completes).
                            if spec.dripping(i) && sent[i] + 1 < spec.body {
                                sent[i] += 1;
                                return (&*stream).write_all(b" ").is_ok();
                            }
                            true
                        });
                        if !alive {
                            thread_dropped.fetch_add(1, Ordering::Relaxed);
                            sent[i] = 1;
                            *slot = spec.open(i);
                        }
                    }
                }
            })
            .expect("cannot start the held-connections thread");
        Held { stop, dropped, thread, count, kind }
    }

    fn close(self) -> HeldSummary {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        HeldSummary { kind: self.kind, count: self.count, dropped: self.dropped.load(Ordering::Relaxed) }
    }
}

/// Whether the server still holds `stream` open: nothing to read yet. A reply (such as a 408)
/// or the end of the stream means it gave up on the connection.
fn still_open(stream: &TcpStream) -> bool {
    match stream.peek(&mut [0u8; 1]) {
        Err(e) => e.kind() == ErrorKind::WouldBlock,
        Ok(_) => false,
    }
}

/// A node started for the run, on a temporary datadir; killed when dropped.
struct NodeProcess {
    child: Child,
    server: Server,
    _datadir: tempfile::TempDir,
}

impl NodeProcess {
    fn start(path: &std::path::Path, extra_args: &[String]) -> Result<NodeProcess, String> {
        let datadir = tempfile::Builder::new()
            .prefix("mpx-rpc-load-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let mut secret = [0u8; 16];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut secret))
            .map_err(|e| format!("/dev/urandom: {e}"))?;
        let password: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let stderr_path = datadir.path().join("stderr.log");
        let stderr =
            std::fs::File::create(&stderr_path).map_err(|e| format!("{}: {e}", stderr_path.display()))?;
        let mut command = Command::new(path);
        command
            .arg(format!("-datadir={}", datadir.path().display()))
            .arg(format!("-rpcport={port}"))
            .arg("-rpcuser=rpc-load")
            .arg(format!("-rpcpassword={password}"))
            .arg("-printtoconsole=0")
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        die_with_parent(&mut command);
        let child = command.spawn().map_err(|e| format!("cannot start {}: {e}", path.display()))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let server = Server::new(addr, &format!("rpc-load:{password}"), Some(child.id()));
        let mut node = NodeProcess { child, server, _datadir: datadir };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if node.server.call().is_ok() {
                return Ok(node);
            }
            if let Ok(Some(status)) = node.child.try_wait() {
                let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                return Err(format!("{} exited with {status}: {}", path.display(), stderr.trim()));
            }
            if Instant::now() > deadline {
                return Err(format!("{} did not answer within {START_TIMEOUT:?}", path.display()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let sorted: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&sorted, 0.50), Some(50));
        assert_eq!(percentile(&sorted, 0.99), Some(99));
        assert_eq!(percentile(&[7], 0.99), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn arguments() {
        let args = |list: &[&str]| parse_args(list.iter().map(|s| s.to_string()));
        let options =
            args(&["--phases=keepalive,slow", "--duration", "2", "--node-arg=-rpcthreads=4"]).unwrap();
        assert_eq!(options.phases, vec![Phase::KeepAlive, Phase::Slow]);
        assert_eq!(options.duration, Duration::from_secs(2));
        assert!(
            matches!(options.target, Target::Start { ref node_args, .. } if node_args == &["-rpcthreads=4"])
        );
        assert!(args(&["--phases=fast"]).is_err());
        assert!(args(&["--user=u"]).is_err());
        assert!(args(&["--connect=127.0.0.1:1", "--user=u", "--password=p"]).is_ok());
    }
}
