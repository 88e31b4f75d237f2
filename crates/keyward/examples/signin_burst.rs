//! The load client of `scripts/bench`: fires a burst of simultaneous sign-ins
//! (`POST /api/v1/session`) at a running `keyward demo` on loopback, then a
//! few sequential ones, then measures seed 002's whole-class reset (a class of
//! 30 learners made through `POST /api/v1/join`, reset with
//! `POST /api/v1/classes/{id}/password-reset` `{"mode":"individual"}` as the
//! demo lead teacher, after which every learner signs in at once with the new
//! password from the answer), and prints a table of statuses, latencies and the
//! server's peak memory. It measures; it asserts no duration. It exits
//! non-zero only on a 5xx other than 503, a connection error, a peak resident
//! memory at or over the limit, or a class reset that does not end with every
//! learner signed in with their new password.
//!
//! ```text
//! signin_burst --addr 127.0.0.1:PORT --accounts DATA_DIR/demo-accounts.txt \
//!     --server-pid PID [--burst 200] [--sequential 30] [--class-size 30] \
//!     [--rss-limit-mib 300]
//! signin_burst --free-port      # prints a free loopback port and exits
//! ```

use serde_json::Value as Json;
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
const MAX_CLASS_SIZE: usize = 200;
/// The password the class's learners join with; the reset replaces it.
const JOIN_PASSWORD: &str = "TigerApple42";
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
    /// Learners in the class of phase 3 (the whole-class reset).
    #[arg(long, default_value_t = 30)]
    class_size: usize,
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
    if args.burst == 0
        || args.burst > MAX_BURST
        || args.sequential > MAX_SEQUENTIAL
        || args.class_size == 0
        || args.class_size > MAX_CLASS_SIZE
    {
        return Err(format!(
            "--burst must be 1..={MAX_BURST}, --sequential at most {MAX_SEQUENTIAL} and --class-size 1..={MAX_CLASS_SIZE}"
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

    // ---- phase 3: seed 002's whole-class reset, from a third loopback
    // address (the first two saw failures and sign-ins of their own).
    let class_phase = class_reset_phase(
        addr,
        IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)),
        &accounts,
        args.class_size,
    )
    .await;

    // After every phase: VmHWM is the peak over the server's whole life.
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
    print_class_phase(&class_phase, args.class_size);
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
    let all: Vec<&Sample> = burst
        .iter()
        .chain(sequential.iter())
        .chain(class_phase.requests.iter())
        .chain(class_phase.sign_ins.iter())
        .collect();
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
    failures.extend(class_phase.failures(args.class_size));
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
            "Result: PASS (no 5xx other than 503, no connection error, every learner signed in after the class reset, peak memory under the limit)"
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

/// One sign-in (`POST /api/v1/session`) with `Connection: close`.
async fn exchange(stream: TcpStream, addr: SocketAddr, body: &str) -> Outcome {
    let request = request_text(addr, "POST", "/api/v1/session", "", Some(body));
    match send(stream, &request)
        .await
        .and_then(|raw| parse_answer(&raw))
    {
        Ok(answer) => Outcome::Status {
            code: answer.code,
            retry_after: answer.retry_after,
        },
        Err(err) => Outcome::ConnectionError(err),
    }
}

/// An HTTP/1.1 request with `Connection: close`; `extra_headers` are whole
/// `Name: value\r\n` lines.
fn request_text(
    addr: SocketAddr,
    method: &str,
    path: &str,
    extra_headers: &str,
    body: Option<&str>,
) -> String {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str(extra_headers);
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    request
}

/// Writes the request and reads the whole answer (the server closes).
async fn send(mut stream: TcpStream, request: &str) -> Result<Vec<u8>, String> {
    let work = async {
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok::<_, std::io::Error>(response)
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, work).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(err)) => Err(format!("exchange: {err}")),
        Err(_) => Err("no answer within 120 s".into()),
    }
}

/// An HTTP answer, as far as the bench needs it.
struct Answer {
    code: u16,
    retry_after: Option<u64>,
    /// `name=value` of each `Set-Cookie`.
    cookies: Vec<String>,
    body: String,
}

fn parse_answer(response: &[u8]) -> Result<Answer, String> {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]);
    let body = response.get(split + 4..).unwrap_or_default();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok());
    let Some(code) = code else {
        return Err(format!(
            "not an HTTP answer: {:?}",
            String::from_utf8_lossy(response)
                .chars()
                .take(80)
                .collect::<String>()
        ));
    };
    let headers: Vec<(&str, &str)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
        .collect();
    let header = |wanted: &'static str| {
        headers
            .iter()
            .filter(move |(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, value)| *value)
    };
    let retry_after = header("retry-after").find_map(|value| value.parse().ok());
    let cookies = header("set-cookie")
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .collect();
    let chunked = header("transfer-encoding").any(|value| value.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        String::from_utf8_lossy(&dechunk(body)).into_owned()
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    Ok(Answer {
        code,
        retry_after,
        cookies,
        body,
    })
}

/// The body of a `Transfer-Encoding: chunked` answer.
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_line = String::from_utf8_lossy(&rest[..line_end]);
        let size = size_line.split(';').next().unwrap_or_default().trim();
        let after = &rest[line_end + 2..];
        match usize::from_str_radix(size, 16) {
            Ok(size) if size > 0 && size <= after.len() => {
                body.extend_from_slice(&after[..size]);
                rest = after[size..]
                    .strip_prefix(b"\r\n")
                    .unwrap_or(&after[size..]);
            }
            _ => break,
        }
    }
    body
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

// ---- phase 3: seed 002's whole-class reset.

/// What phase 3 came to.
#[derive(Default)]
struct ClassPhase {
    /// The staff account that made the class and reset it.
    staff: String,
    /// Why the phase stopped before the end, if it did.
    error: Option<String>,
    /// Signing the staff member in, making the class, the learners joining
    /// (when all that succeeded).
    setup_wall: Option<Duration>,
    reset: Option<Outcome>,
    reset_wall: Duration,
    /// Learners the reset answer listed with a new password.
    learners_listed: usize,
    /// Learners the reset left alone (no password yet).
    skipped_pending: usize,
    /// Every other request of the phase, for the 5xx and connection rules.
    requests: Vec<Sample>,
    /// The learners' sign-ins with their new passwords (last tries).
    sign_ins: Vec<Sample>,
    sign_in_retries: usize,
    sign_in_wall: Duration,
}

impl ClassPhase {
    /// One request from `source`, recorded for the verdict. A connection
    /// error is an `Err`; any status is the caller's to judge.
    async fn call(
        &mut self,
        addr: SocketAddr,
        source: IpAddr,
        method: &str,
        path: &str,
        staff: Option<&StaffSession>,
        body: Option<&str>,
    ) -> Result<(Answer, Duration), String> {
        let mut headers = String::new();
        if let Some(staff) = staff {
            headers.push_str(&format!("Cookie: {}\r\n", staff.cookie));
            if method != "GET" {
                headers.push_str(&format!("X-CSRF-Token: {}\r\n", staff.csrf_token));
            }
        }
        let request = request_text(addr, method, path, &headers, body);
        let start = Instant::now();
        let answer = match connect(addr, Some(source)).await {
            Ok(stream) => send(stream, &request)
                .await
                .and_then(|raw| parse_answer(&raw)),
            Err(err) => Err(err),
        };
        let latency = start.elapsed();
        let outcome = match &answer {
            Ok(answer) => Outcome::Status {
                code: answer.code,
                retry_after: answer.retry_after,
            },
            Err(err) => Outcome::ConnectionError(err.clone()),
        };
        self.requests.push(Sample {
            kind: Kind::Right,
            outcome,
            latency,
        });
        answer
            .map(|answer| (answer, latency))
            .map_err(|err| format!("{method} {path}: {err}"))
    }

    /// Why phase 3 fails the run, if it does.
    fn failures(&self, class_size: usize) -> Vec<String> {
        let mut failures = Vec::new();
        if let Some(error) = &self.error {
            failures.push(format!("the class reset phase stopped: {error}"));
            return failures;
        }
        if self.learners_listed != class_size {
            failures.push(format!(
                "the class reset listed {} of {class_size} learners",
                self.learners_listed
            ));
        }
        let signed_in = self.signed_in();
        if signed_in != class_size {
            failures.push(format!(
                "{signed_in} of {class_size} learners signed in with their new password"
            ));
        }
        failures
    }

    fn signed_in(&self) -> usize {
        self.sign_ins
            .iter()
            .filter(|s| code(s) == Some(200))
            .count()
    }
}

/// A signed-in staff member: the session cookie and its CSRF token.
struct StaffSession {
    cookie: String,
    csrf_token: String,
}

/// Makes a class of `class_size` learners (they join with its class code),
/// resets it as the demo lead teacher (or teacher), then signs every learner
/// in at once with the password the answer gave them.
async fn class_reset_phase(
    addr: SocketAddr,
    source: IpAddr,
    accounts: &[Account],
    class_size: usize,
) -> ClassPhase {
    let mut phase = ClassPhase::default();
    if let Err(error) = run_class_phase(&mut phase, addr, source, accounts, class_size).await {
        phase.error = Some(error);
    }
    phase
}

async fn run_class_phase(
    phase: &mut ClassPhase,
    addr: SocketAddr,
    source: IpAddr,
    accounts: &[Account],
    class_size: usize,
) -> Result<(), String> {
    let staff = ["demo.lead", "demo.teacher"]
        .iter()
        .find_map(|name| accounts.iter().find(|a| a.username == *name))
        .or_else(|| {
            ["lead_teacher", "teacher"]
                .iter()
                .find_map(|role| accounts.iter().find(|a| a.role == *role))
        })
        .ok_or("demo-accounts.txt names no lead teacher or teacher")?;
    phase.staff = staff.username.clone();

    // ---- setup: sign in, make the class, the learners join.
    let setup_start = Instant::now();
    let (answer, _) = phase
        .call(
            addr,
            source,
            "POST",
            "/api/v1/session",
            None,
            Some(&sign_in_body(&staff.username, &staff.password)),
        )
        .await?;
    let signed_in = expect(&answer, 200, &format!("signing in as {}", staff.username))?;
    let session = StaffSession {
        cookie: answer
            .cookies
            .iter()
            .find(|c| c.starts_with("kw_session="))
            .cloned()
            .ok_or("the sign-in answer set no kw_session cookie")?,
        csrf_token: signed_in
            .get("csrf_token")
            .and_then(Json::as_str)
            .ok_or("the sign-in answer has no csrf_token")?
            .to_owned(),
    };
    let school_id = match signed_in
        .get("user")
        .and_then(|user| user.get("school_id"))
        .and_then(Json::as_str)
    {
        Some(id) => id.to_owned(),
        None => {
            let (answer, _) = phase
                .call(addr, source, "GET", "/api/v1/me", Some(&session), None)
                .await?;
            expect(&answer, 200, "GET /api/v1/me")?
                .get("school_id")
                .and_then(Json::as_str)
                .ok_or("GET /api/v1/me has no school_id")?
                .to_owned()
        }
    };
    let (answer, _) = phase
        .call(
            addr,
            source,
            "POST",
            &format!("/api/v1/schools/{school_id}/classes"),
            Some(&session),
            Some(&format!("{{\"name\":\"Bench {class_size}\"}}")),
        )
        .await?;
    let class = expect(&answer, 201, "creating the class")?;
    let class_id = class
        .get("id")
        .and_then(Json::as_str)
        .ok_or("the new class has no id")?
        .to_owned();
    let class_code = match class.get("class_code").and_then(Json::as_str) {
        Some(code) => code.to_owned(),
        None => {
            let (answer, _) = phase
                .call(
                    addr,
                    source,
                    "GET",
                    &format!("/api/v1/classes/{class_id}/class-code"),
                    Some(&session),
                    None,
                )
                .await?;
            expect(&answer, 200, "reading the class code")?
                .get("class_code")
                .and_then(Json::as_str)
                .ok_or("the class has no class code")?
                .to_owned()
        }
    };
    for i in 1..=class_size {
        let body = format!(
            "{{\"class_code\":{},\"first_name\":\"Bench\",\"last_name\":\"Learner {i:02}\",\"username\":\"bench.l{i:02}\",\"password\":\"{JOIN_PASSWORD}\"}}",
            json_string(&class_code)
        );
        let (answer, _) = phase
            .call(addr, source, "POST", "/api/v1/join", None, Some(&body))
            .await?;
        expect(&answer, 201, &format!("learner {i} joining the class"))?;
    }
    phase.setup_wall = Some(setup_start.elapsed());

    // ---- the reset.
    let (answer, reset_wall) = phase
        .call(
            addr,
            source,
            "POST",
            &format!("/api/v1/classes/{class_id}/password-reset"),
            Some(&session),
            Some("{\"mode\":\"individual\"}"),
        )
        .await?;
    phase.reset = Some(Outcome::Status {
        code: answer.code,
        retry_after: answer.retry_after,
    });
    phase.reset_wall = reset_wall;
    let reset = expect(&answer, 200, "the class reset")?;
    let learners: Vec<(String, String)> = reset
        .get("learners")
        .and_then(Json::as_array)
        .ok_or("the reset answer has no learners list")?
        .iter()
        .filter_map(|learner| {
            let username = learner.get("username").and_then(Json::as_str)?;
            let password = learner.get("password").and_then(Json::as_str)?;
            Some((username.to_owned(), password.to_owned()))
        })
        .collect();
    phase.learners_listed = learners.len();
    phase.skipped_pending = reset
        .get("skipped_pending")
        .and_then(Json::as_array)
        .map_or(0, Vec::len);

    // ---- every learner signs in at once with the new password; a 429 or
    // 503 is retried after its Retry-After, as a browser's learner would.
    let barrier = Arc::new(tokio::sync::Barrier::new(learners.len().max(1)));
    let mut tasks = Vec::with_capacity(learners.len());
    for (username, password) in learners {
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let body = sign_in_body(&username, &password);
            let mut stream = Some(connect(addr, Some(source)).await);
            barrier.wait().await;
            let start = Instant::now();
            let mut retries = 0;
            loop {
                let stream = match stream.take() {
                    Some(stream) => stream,
                    None => connect(addr, Some(source)).await,
                };
                let outcome = match stream {
                    Ok(stream) => exchange(stream, addr, &body).await,
                    Err(err) => Outcome::ConnectionError(err),
                };
                if let Outcome::Status {
                    code: 429 | 503,
                    retry_after,
                } = outcome
                    && retries < 3
                {
                    retries += 1;
                    let wait = retry_after.unwrap_or(1).clamp(1, 45);
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                    continue;
                }
                let sample = Sample {
                    kind: Kind::Right,
                    outcome,
                    latency: start.elapsed(),
                };
                return (sample, retries);
            }
        }));
    }
    let sign_in_start = Instant::now();
    for task in tasks {
        let (sample, retries) = task
            .await
            .map_err(|err| format!("a client task failed: {err}"))?;
        phase.sign_ins.push(sample);
        phase.sign_in_retries += retries;
    }
    phase.sign_in_wall = sign_in_start.elapsed();
    Ok(())
}

/// The answer's JSON when its status is `wanted`; otherwise what went wrong.
fn expect(answer: &Answer, wanted: u16, what: &str) -> Result<Json, String> {
    if answer.code != wanted {
        return Err(format!(
            "{what}: {} (wanted {wanted}): {}",
            answer.code,
            answer.body.chars().take(200).collect::<String>()
        ));
    }
    serde_json::from_str(&answer.body).map_err(|_| format!("{what}: the answer is not JSON"))
}

fn print_class_phase(phase: &ClassPhase, class_size: usize) {
    println!(
        "Phase 3: seed 002 whole-class reset, {class_size} learners, mode individual, as {} from 127.0.0.3",
        if phase.staff.is_empty() {
            "-"
        } else {
            &phase.staff
        }
    );
    let row = |label: &str, value: String| println!("  {label:<34} {value:>10}");
    if let Some(setup_wall) = phase.setup_wall {
        row("setup: class and joins", ms(setup_wall));
    }
    if let Some(reset) = &phase.reset {
        row(
            "reset status",
            match reset {
                Outcome::Status { code, .. } => code.to_string(),
                Outcome::ConnectionError(_) => "error".into(),
            },
        );
        row("reset wall time", ms(phase.reset_wall));
        row(
            "learners given a new password",
            format!("{}/{class_size}", phase.learners_listed),
        );
        if phase.skipped_pending > 0 {
            row(
                "learners skipped (pending)",
                phase.skipped_pending.to_string(),
            );
        }
    }
    if !phase.sign_ins.is_empty() {
        row(
            "signed in with the new password",
            format!("{}/{class_size}", phase.signed_in()),
        );
        if phase.sign_in_retries > 0 {
            row(
                "429/503 retried after Retry-After",
                phase.sign_in_retries.to_string(),
            );
        }
        row("sign-in wall time (all at once)", ms(phase.sign_in_wall));
        print_latencies(&phase.sign_ins);
    }
    if let Some(error) = &phase.error {
        println!("  stopped: {error}");
    }
}
