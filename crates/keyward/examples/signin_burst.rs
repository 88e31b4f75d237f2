//! The load client of `scripts/bench`: fires a burst of simultaneous sign-ins
//! (`POST /api/v1/session`) at a running `keyward demo` on loopback, then a
//! few sequential ones, and prints a table of statuses, latencies and the
//! server's peak memory. It measures; it asserts no duration. It exits
//! non-zero only on a 5xx other than 503, a connection error, or a peak
//! resident memory at or over the limit.
//!
//! ```text
//! signin_burst --addr 127.0.0.1:PORT --accounts DATA_DIR/demo-accounts.txt \
//!     --server-pid PID [--burst 200] [--sequential 30] [--rss-limit-mib 300]
//! signin_burst --free-port      # prints a free loopback port and exits
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The most requests one burst may send; the client stays a bounded tool.
const MAX_BURST: usize = 1000;
const MAX_SEQUENTIAL: usize = 1000;
/// How long one request may take before it counts as a connection error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Parser)]
#[command(about = "Sign-in burst against a local `keyward demo` (see scripts/bench)")]
struct Args {
    /// The server's loopback address.
    #[arg(long, required_unless_present = "free_port")]
    addr: Option<SocketAddr>,
    /// The demo's `demo-accounts.txt` (ROLE USERNAME PASSWORD lines).
    #[arg(long, required_unless_present = "free_port")]
    accounts: Option<PathBuf>,
    /// The server's process id, for its memory (VmHWM in /proc/PID/status).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Simultaneous sign-ins in phase 1.
    #[arg(long, default_value_t = 200)]
    burst: usize,
    /// Sequential sign-ins in phase 2.
    #[arg(long, default_value_t = 30)]
    sequential: usize,
    /// Peak resident memory at or over this many MiB fails the run.
    #[arg(long, default_value_t = 300)]
    rss_limit_mib: u64,
    /// How long to wait for /readyz before giving up.
    #[arg(long, default_value_t = 120)]
    ready_timeout_secs: u64,
    /// Print a free loopback port and exit.
    #[arg(long)]
    free_port: bool,
}

struct Account {
    role: String,
    username: String,
    password: String,
}

/// What one request came to.
#[derive(Clone, Debug)]
enum Outcome {
    Status {
        code: u16,
        retry_after: Option<u64>,
    },
    /// Could not connect, the connection broke, or no answer in time.
    ConnectionError(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Right,
    WrongPassword,
    UnknownUser,
}

struct Sample {
    kind: Kind,
    outcome: Outcome,
    latency: Duration,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.free_port {
        return match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => {
                println!("{}", addr.port());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("signin_burst: no free port: {err}");
                ExitCode::from(2)
            }
        };
    }
    match run(args).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("signin_burst: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> Result<bool, String> {
    let (Some(addr), Some(accounts_path)) = (args.addr, args.accounts.as_ref()) else {
        return Err("--addr and --accounts are required".into());
    };
    if !addr.ip().is_loopback() {
        return Err(format!("{addr} is not a loopback address"));
    }
    if args.burst == 0 || args.burst > MAX_BURST || args.sequential > MAX_SEQUENTIAL {
        return Err(format!(
            "--burst must be 1..={MAX_BURST} and --sequential at most {MAX_SEQUENTIAL}"
        ));
    }

    wait_until_ready(addr, args.server_pid, args.ready_timeout_secs).await?;
    let accounts = read_accounts(accounts_path)?;
    let rss_before = args.server_pid.and_then(|pid| memory_kib(pid, "VmRSS:"));

    // Wrong passwords go to two learners only (children mistype); phase 2 signs
    // in as the others, whose accounts never failed and so are not throttled.
    let typo_targets: Vec<usize> = {
        let learners: Vec<usize> = (0..accounts.len())
            .filter(|&i| accounts[i].role == "learner")
            .take(2)
            .collect();
        if learners.is_empty() {
            vec![0]
        } else {
            learners
        }
    };
    let clean: Vec<usize> = (0..accounts.len())
        .filter(|i| !typo_targets.contains(i))
        .collect();
    let clean = if clean.is_empty() {
        (0..accounts.len()).collect()
    } else {
        clean
    };

    // ---- phase 1: the burst, all from 127.0.0.1.
    let requests: Vec<(Kind, String)> = (0..args.burst)
        .map(|i| {
            let half = i / 2;
            if i % 2 == 0 {
                let a = &accounts[half % accounts.len()];
                (Kind::Right, sign_in_body(&a.username, &a.password))
            } else if half % 2 == 0 {
                let a = &accounts[typo_targets[half / 2 % typo_targets.len()]];
                (
                    Kind::WrongPassword,
                    sign_in_body(&a.username, &format!("{}-wrong{i}", a.password)),
                )
            } else {
                (
                    Kind::UnknownUser,
                    sign_in_body(&format!("nobody.{i}"), "Not-A-Real-Password-42"),
                )
            }
        })
        .collect();
    let barrier = Arc::new(tokio::sync::Barrier::new(requests.len()));
    let mut tasks = Vec::with_capacity(requests.len());
    for (kind, body) in requests {
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            // Connect first, then start everyone at the same instant.
            let stream = connect(addr, None).await;
            barrier.wait().await;
            let start = Instant::now();
            let outcome = match stream {
                Ok(stream) => exchange(stream, addr, &body).await,
                Err(err) => Outcome::ConnectionError(err),
            };
            Sample {
                kind,
                outcome,
                latency: start.elapsed(),
            }
        }));
    }
    let burst_start = Instant::now();
    let mut burst = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(sample) => burst.push(sample),
            Err(err) => return Err(format!("a client task failed: {err}")),
        }
    }
    let burst_wall = burst_start.elapsed();

    // ---- phase 2: sequential sign-ins with right passwords, from another
    // loopback address: phase 1's failures (rightly) throttle 127.0.0.1.
    let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let mut sequential = Vec::with_capacity(args.sequential);
    let mut sequential_429 = 0usize;
    for i in 0..args.sequential {
        let a = &accounts[clean[i % clean.len()]];
        let body = sign_in_body(&a.username, &a.password);
        let mut tries = 0;
        loop {
            tries += 1;
            let start = Instant::now();
            let outcome = match connect(addr, Some(source)).await {
                Ok(stream) => exchange(stream, addr, &body).await,
                Err(err) => Outcome::ConnectionError(err),
            };
            let latency = start.elapsed();
            if let Outcome::Status {
                code: 429,
                retry_after,
            } = outcome
                && tries < 4
            {
                sequential_429 += 1;
                let wait = retry_after.unwrap_or(1).clamp(1, 45);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            sequential.push(Sample {
                kind: Kind::Right,
                outcome,
                latency,
            });
            break;
        }
    }

    let peak_kib = args.server_pid.and_then(|pid| memory_kib(pid, "VmHWM:"));
    let rss_after = args.server_pid.and_then(|pid| memory_kib(pid, "VmRSS:"));

    // ---- the table.
    let mib = |kib: Option<u64>| match kib {
        Some(kib) => format!("{:.1} MiB", kib as f64 / 1024.0),
        None => "unknown".into(),
    };
    let rights = burst.iter().filter(|s| s.kind == Kind::Right).count();
    let wrongs = burst
        .iter()
        .filter(|s| s.kind == Kind::WrongPassword)
        .count();
    let unknowns = burst.iter().filter(|s| s.kind == Kind::UnknownUser).count();
    println!();
    println!(
        "Phase 1: {} simultaneous POST /api/v1/session from 127.0.0.1 ({rights} right passwords, {wrongs} wrong passwords, {unknowns} unknown users)",
        burst.len()
    );
    print_counts(&burst);
    println!(
        "  {:<34} {:>10}",
        "wall time (connects, then burst)",
        ms(burst_wall)
    );
    print_latencies(&burst);
    let right_200 = burst
        .iter()
        .filter(|s| s.kind == Kind::Right && code(s) == Some(200))
        .count();
    let wrong_401 = burst
        .iter()
        .filter(|s| s.kind != Kind::Right && code(s) == Some(401))
        .count();
    println!(
        "  {:<34} {:>10}",
        "right passwords answered 200",
        format!("{right_200}/{rights}")
    );
    println!(
        "  {:<34} {:>10}",
        "wrong/unknown answered 401",
        format!("{wrong_401}/{}", wrongs + unknowns)
    );
    println!();
    println!(
        "Phase 2: {} sequential sign-ins with right passwords from 127.0.0.2",
        sequential.len()
    );
    print_counts(&sequential);
    if sequential_429 > 0 {
        println!(
            "  {:<34} {:>10}",
            "429 retried after Retry-After", sequential_429
        );
    }
    print_latencies(&sequential);
    println!();
    println!("Server memory");
    println!(
        "  {:<34} {:>10}",
        "resident before the burst",
        mib(rss_before)
    );
    println!("  {:<34} {:>10}", "resident at the end", mib(rss_after));
    println!("  {:<34} {:>10}", "peak resident (VmHWM)", mib(peak_kib));
    println!(
        "  {:<34} {:>10}",
        "limit",
        format!("{} MiB", args.rss_limit_mib)
    );

    // ---- the verdict.
    let all: Vec<&Sample> = burst.iter().chain(sequential.iter()).collect();
    let server_errors = all
        .iter()
        .filter(|s| matches!(code(s), Some(c) if c >= 500 && c != 503))
        .count();
    let connection_errors: Vec<&str> = all
        .iter()
        .filter_map(|s| match &s.outcome {
            Outcome::ConnectionError(err) => Some(err.as_str()),
            Outcome::Status { .. } => None,
        })
        .collect();
    let mut failures = Vec::new();
    if server_errors > 0 {
        failures.push(format!("{server_errors} answers were 5xx other than 503"));
    }
    if !connection_errors.is_empty() {
        failures.push(format!(
            "{} connection errors (first: {})",
            connection_errors.len(),
            connection_errors[0]
        ));
    }
    match (args.server_pid, peak_kib) {
        (Some(_), Some(kib)) if kib >= args.rss_limit_mib * 1024 => failures.push(format!(
            "peak resident memory {} is at or over {} MiB",
            mib(Some(kib)),
            args.rss_limit_mib
        )),
        (Some(pid), None) => failures.push(format!("cannot read /proc/{pid}/status")),
        _ => {}
    }
    println!();
    if failures.is_empty() {
        println!(
            "Result: PASS (no 5xx other than 503, no connection error, peak memory under the limit)"
        );
        Ok(true)
    } else {
        println!("Result: FAIL: {}", failures.join("; "));
        Ok(false)
    }
}

fn code(sample: &Sample) -> Option<u16> {
    match sample.outcome {
        Outcome::Status { code, .. } => Some(code),
        Outcome::ConnectionError(_) => None,
    }
}

fn print_counts(samples: &[Sample]) {
    let count =
        |wanted: &dyn Fn(Option<u16>) -> bool| samples.iter().filter(|s| wanted(code(s))).count();
    let rows: [(&str, usize); 7] = [
        ("200 signed in", count(&|c| c == Some(200))),
        ("401 refused", count(&|c| c == Some(401))),
        ("429 throttled", count(&|c| c == Some(429))),
        ("503 busy (Retry-After)", count(&|c| c == Some(503))),
        (
            "5xx other than 503",
            count(&|c| matches!(c, Some(c) if c >= 500 && c != 503)),
        ),
        (
            "other status",
            count(&|c| matches!(c, Some(c) if ![200, 401, 429, 503].contains(&c) && c < 500)),
        ),
        ("connection errors", count(&|c| c.is_none())),
    ];
    println!("  {:<34} {:>10}", "status", "count");
    for (label, n) in rows {
        println!("  {label:<34} {n:>10}");
    }
}

fn print_latencies(samples: &[Sample]) {
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    latencies.sort();
    let pick = |p: f64| -> String {
        if latencies.is_empty() {
            return "-".into();
        }
        let rank = ((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        ms(latencies[rank - 1])
    };
    println!("  {:<34} {:>10}", "latency p50", pick(0.50));
    println!("  {:<34} {:>10}", "latency p95", pick(0.95));
    println!("  {:<34} {:>10}", "latency max", pick(1.0));
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

async fn connect(addr: SocketAddr, source: Option<IpAddr>) -> Result<TcpStream, String> {
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    if let Some(source) = source {
        // Fall back to the default source when 127.0.0.2 is not usable.
        let _ = socket.bind(SocketAddr::new(source, 0));
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, socket.connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(err)) => Err(format!("connect: {err}")),
        Err(_) => Err("connect: timed out".into()),
    }
}

/// One HTTP/1.1 request with `Connection: close`; reads the whole answer.
async fn exchange(mut stream: TcpStream, addr: SocketAddr, body: &str) -> Outcome {
    let request = format!(
        "POST /api/v1/session HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let work = async {
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    let response = match tokio::time::timeout(REQUEST_TIMEOUT, work).await {
        Ok(Ok(response)) => response,
        Ok(Err(err)) => return Outcome::ConnectionError(format!("exchange: {err}")),
        Err(_) => return Outcome::ConnectionError("no answer within 120 s".into()),
    };
    let text = String::from_utf8_lossy(&response);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok());
    let Some(code) = code else {
        return Outcome::ConnectionError(format!(
            "not an HTTP answer: {:?}",
            text.chars().take(80).collect::<String>()
        ));
    };
    let retry_after = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("retry-after")
            .then(|| value.trim().parse().ok())?
    });
    Outcome::Status { code, retry_after }
}

fn sign_in_body(username: &str, password: &str) -> String {
    format!(
        "{{\"username\":{},\"password\":{}}}",
        json_string(username),
        json_string(password)
    )
}

fn json_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn read_accounts(path: &PathBuf) -> Result<Vec<Account>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let accounts: Vec<Account> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [role, username, password] => Some(Account {
                    role: role.to_owned(),
                    username: username.to_owned(),
                    password: password.to_owned(),
                }),
                _ => None,
            },
        )
        .collect();
    if accounts.is_empty() {
        return Err(format!("no accounts in {}", path.display()));
    }
    Ok(accounts)
}

/// A `kB` line of /proc/PID/status, such as `VmHWM:`.
fn memory_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

async fn wait_until_ready(
    addr: SocketAddr,
    pid: Option<u32>,
    timeout_secs: u64,
) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);
    loop {
        if let Some(pid) = pid
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            return Err(format!("the server (pid {pid}) is not running"));
        }
        if let Ok(mut stream) = TcpStream::connect(addr).await {
            let request =
                format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            let mut response = Vec::new();
            if stream.write_all(request.as_bytes()).await.is_ok()
                && stream.read_to_end(&mut response).await.is_ok()
                && response.starts_with(b"HTTP/1.1 200")
            {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(format!("{addr} was not ready within {timeout_secs} s"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
