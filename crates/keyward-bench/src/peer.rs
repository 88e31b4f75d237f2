//! The peer a school might deploy instead: Django's auth with django-allauth
//! under gunicorn (2 sync workers), SQLite, the same Argon2id parameters,
//! installed from PyPI (pinned, `bench/peer/requirements.txt`) into a
//! throwaway virtual environment under `target/bench-tools`.
//!
//! It owns the peer's whole life: the virtual environment (made again only
//! when `requirements.txt` or the Python changes), a temporary folder with the
//! SQLite file, the accounts `seed_bench` wrote and gunicorn's log, the
//! gunicorn process and its workers. It sends no load: the scenarios do, through
//! [`Subject`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::load::Request;
use crate::subject::{Account, Subject};

/// How long gunicorn may take to answer its first sign-in page.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long gunicorn gets after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// gunicorn's own grace for its workers after SIGTERM (below `STOP_GRACE`).
const GUNICORN_GRACEFUL_TIMEOUT_SECS: u32 = 3;
/// Lines of a failed command's (or gunicorn's) stderr put into the error.
const STDERR_TAIL_LINES: usize = 30;
/// The file in the virtual environment saying what it was made from.
const VENV_STAMP: &str = "keyward-bench-stamp.txt";
const SIGN_IN_PAGE: &str = "/accounts/login/";

/// What the peer is started with.
#[derive(Debug, Clone)]
pub struct PeerOptions {
    /// Learners (username + password) to create.
    pub learners: usize,
    /// People with an email address to create (the recovery scenario).
    pub staff: usize,
    pub hash: crate::hash_limit::HashParams,
    /// gunicorn's sync workers.
    pub workers: usize,
}

/// A running peer; stopped (SIGTERM to gunicorn) when dropped.
pub struct Peer {
    base_url: String,
    gunicorn: Child,
    learners: Vec<Account>,
    staff: Vec<Account>,
    /// From spawning gunicorn to the first 200 from the sign-in page.
    pub ready_after: Duration,
    /// The SQLite file, the accounts file and gunicorn's log; removed after
    /// gunicorn stops (fields drop after `Drop::drop`).
    _folder: tempfile::TempDir,
}

impl Peer {
    pub async fn start(options: &PeerOptions) -> anyhow::Result<Peer> {
        let started = Instant::now();
        let owned = options.clone();
        let prepared = tokio::task::spawn_blocking(move || prepare(&owned))
            .await
            .context("preparing the peer")??;
        eprintln!(
            "peer: virtual environment, migrations and seeding took {:.1} s",
            started.elapsed().as_secs_f64()
        );

        let port = free_loopback_port()?;
        let log = prepared.folder.path().join("gunicorn.log");
        let spawned = Instant::now();
        let mut gunicorn = spawn_gunicorn(&prepared, port, options.workers, &log)?;
        let base_url = format!("http://127.0.0.1:{port}");
        if let Err(err) = wait_until_ready(&base_url, &mut gunicorn, &log).await {
            stop(&mut gunicorn);
            return Err(err);
        }
        let (staff, learners) = prepared
            .accounts
            .into_iter()
            .partition(|a| a.email.is_some());
        Ok(Peer {
            base_url,
            gunicorn,
            learners,
            staff,
            ready_after: spawned.elapsed(),
            _folder: prepared.folder,
        })
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        stop(&mut self.gunicorn);
    }
}

impl Subject for Peer {
    fn name(&self) -> &str {
        "Django + allauth"
    }

    fn base_url(&self) -> &str {
        &self.base_url
    }

    fn pids(&self) -> Vec<u32> {
        let master = self.gunicorn.id();
        let mut pids = vec![master];
        pids.extend(child_pids(master));
        pids
    }

    fn learners(&self) -> &[Account] {
        &self.learners
    }

    fn staff(&self) -> &[Account] {
        &self.staff
    }

    fn sign_in(&self, account: &Account) -> Request {
        Request::post_json(
            "/_allauth/app/v1/auth/login",
            &serde_json::json!({ "username": account.username, "password": account.password }),
        )
    }

    fn recovery(&self, email: &str) -> Request {
        Request::post_json(
            "/_allauth/app/v1/auth/password/request",
            &serde_json::json!({ "email": email }),
        )
    }

    fn sign_in_page(&self) -> Request {
        Request::get(SIGN_IN_PAGE)
    }
}

/// Everything before gunicorn: the venv, a migrated and seeded database.
struct Prepared {
    venv: PathBuf,
    env: Vec<(String, String)>,
    accounts: Vec<Account>,
    folder: tempfile::TempDir,
}

fn prepare(options: &PeerOptions) -> anyhow::Result<Prepared> {
    let venv = ensure_venv()?;
    let folder = tempfile::Builder::new()
        .prefix("keyward-bench-peer-")
        .tempdir()
        .context("making the peer's temporary folder")?;
    let env = peer_env(options, &folder.path().join("peer.sqlite3"));
    let accounts_file = folder.path().join("accounts.jsonl");
    let python = venv.join("bin/python");
    run(
        manage(&python, &env).arg("migrate").arg("-v0"),
        "manage.py migrate",
    )?;
    run(
        manage(&python, &env)
            .arg("seed_bench")
            .arg(format!("--learners={}", options.learners))
            .arg(format!("--staff={}", options.staff))
            .arg("--out")
            .arg(&accounts_file),
        "manage.py seed_bench",
    )?;
    let text = std::fs::read_to_string(&accounts_file)
        .with_context(|| format!("reading {}", accounts_file.display()))?;
    let accounts = parse_accounts(&text)?;
    Ok(Prepared {
        venv,
        env,
        accounts,
        folder,
    })
}

fn workspace_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // crates/keyward-bench → the workspace.
    crate_dir
        .ancestors()
        .nth(2)
        .unwrap_or(crate_dir)
        .to_path_buf()
}

fn peer_project() -> PathBuf {
    workspace_root().join("bench/peer")
}

/// `target/bench-tools/peer-venv`, made again when `requirements.txt` or
/// `python3 --version` differs from what it was made from.
fn ensure_venv() -> anyhow::Result<PathBuf> {
    let venv = workspace_root().join("target/bench-tools/peer-venv");
    let requirements = peer_project().join("requirements.txt");
    let wanted = venv_stamp(&requirements)?;
    let stamp = venv.join(VENV_STAMP);
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str())
        && venv.join("bin/gunicorn").exists()
    {
        return Ok(venv);
    }
    eprintln!(
        "peer: installing {} into {}",
        requirements.display(),
        venv.display()
    );
    let _ = std::fs::remove_file(&stamp);
    run(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python3 -m venv",
    )?;
    run(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                "-r",
            ])
            .arg(&requirements),
        "pip install -r bench/peer/requirements.txt",
    )?;
    std::fs::write(&stamp, wanted).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(venv)
}

/// What a venv is made from: the Python's version and the requirements, verbatim.
fn venv_stamp(requirements: &Path) -> anyhow::Result<String> {
    let pins = std::fs::read_to_string(requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let version = Command::new("python3")
        .arg("--version")
        .output()
        .context("running python3 --version (is Python 3 installed?)")?;
    Ok(format!(
        "{}{pins}",
        String::from_utf8_lossy(&version.stdout)
    ))
}

/// The settings `benchpeer/settings.py` reads.
fn peer_env(options: &PeerOptions, db: &Path) -> Vec<(String, String)> {
    let mut env = vec![
        ("DJANGO_SETTINGS_MODULE".into(), "benchpeer.settings".into()),
        ("BENCH_PEER_DB".into(), db.display().to_string()),
        (
            "BENCH_PEER_ARGON2_MEMORY_KIB".into(),
            options.hash.memory_kib.to_string(),
        ),
        (
            "BENCH_PEER_ARGON2_TIME_COST".into(),
            options.hash.iterations.to_string(),
        ),
        (
            "BENCH_PEER_ARGON2_PARALLELISM".into(),
            options.hash.parallelism.to_string(),
        ),
        // No __pycache__ in bench/peer; the venv's packages are compiled at install.
        ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
    ];
    if let Ok(limits) = std::env::var("BENCH_PEER_RATE_LIMITS") {
        env.push(("BENCH_PEER_RATE_LIMITS".into(), limits));
    }
    env
}

fn manage(python: &Path, env: &[(String, String)]) -> Command {
    let mut command = Command::new(python);
    command
        .arg("manage.py")
        .current_dir(peer_project())
        .envs(env.iter().map(|(k, v)| (k, v)));
    command
}

/// Runs a command to its end; an error carries its stderr's tail.
fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            output.status,
            tail(&String::from_utf8_lossy(&output.stderr))
        );
    }
    Ok(())
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join("\n")
}

/// One line of `seed_bench`'s output.
#[derive(serde::Deserialize)]
struct SeededAccount {
    username: String,
    password: String,
    email: Option<String>,
}

fn parse_accounts(text: &str) -> anyhow::Result<Vec<Account>> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            let seeded: SeededAccount = serde_json::from_str(line)
                .with_context(|| format!("seed_bench's account line {}", i + 1))?;
            Ok(Account {
                username: seeded.username,
                password: seeded.password,
                email: seeded.email,
            })
        })
        .collect()
}

fn free_loopback_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn spawn_gunicorn(
    prepared: &Prepared,
    port: u16,
    workers: usize,
    log: &Path,
) -> anyhow::Result<Child> {
    let log_file =
        std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    Command::new(prepared.venv.join("bin/gunicorn"))
        .arg("benchpeer.wsgi:application")
        .arg(format!("--workers={workers}"))
        .arg("--worker-class=sync")
        .arg(format!("--bind=127.0.0.1:{port}"))
        .arg(format!(
            "--graceful-timeout={GUNICORN_GRACEFUL_TIMEOUT_SECS}"
        ))
        // No access log (gunicorn's default, said out loud) and no control
        // socket in $HOME that two peers would share.
        .arg("--no-control-socket")
        .current_dir(peer_project())
        .envs(prepared.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        .spawn()
        .context("starting gunicorn")
}

/// Polls the sign-in page until it answers 200; fails early when gunicorn exits.
async fn wait_until_ready(base_url: &str, gunicorn: &mut Child, log: &Path) -> anyhow::Result<()> {
    let client = probe_client()?;
    let url = format!("{base_url}{SIGN_IN_PAGE}");
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut last;
    loop {
        if let Some(status) = gunicorn.try_wait()? {
            bail!(
                "gunicorn exited ({status}) before it was ready:\n{}",
                log_tail(log)
            );
        }
        match client.get(&url).send().await {
            Ok(response) if response.status() == reqwest::StatusCode::OK => return Ok(()),
            Ok(response) => last = format!("status {}", response.status()),
            Err(err) => last = err.to_string(),
        }
        if Instant::now() > deadline {
            bail!(
                "gunicorn did not answer 200 on {url} within {READY_TIMEOUT:?} (last: {last}):\n{}",
                log_tail(log)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn probe_client() -> anyhow::Result<reqwest::Client> {
    // reqwest is built without a crypto provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .context("building the readiness probe's HTTP client")
}

fn log_tail(log: &Path) -> String {
    std::fs::read_to_string(log)
        .map(|text| tail(&text))
        .unwrap_or_else(|err| format!("(no log at {}: {err})", log.display()))
}

/// The children of a process, from `/proc/PID/task/*/children`.
fn child_pids(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|children| {
            children
                .split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// SIGTERM to gunicorn, then SIGKILL to it and its workers after `STOP_GRACE`.
fn stop(gunicorn: &mut Child) {
    let master = gunicorn.id();
    let workers = child_pids(master);
    signal("TERM", master);
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline {
        if matches!(gunicorn.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("peer: gunicorn ({master}) did not stop within {STOP_GRACE:?}; killing it");
    let _ = gunicorn.kill();
    let _ = gunicorn.wait();
    for worker in workers {
        signal("KILL", worker);
    }
}

fn signal(name: &str, pid: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash_limit::HashParams;

    async fn send(client: &reqwest::Client, base_url: &str, request: &Request) -> u16 {
        let mut builder = client.request(
            request.method.clone(),
            format!("{base_url}{}", request.path),
        );
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        builder
            .send()
            .await
            .expect("the peer answers")
            .status()
            .as_u16()
    }

    fn is_gone(pid: u32) -> bool {
        // Gone, or a zombie waiting for init to reap it.
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| {
                stat.rsplit(')')
                    .next()
                    .is_some_and(|rest| rest.trim_start().starts_with('Z'))
            })
            .unwrap_or(true)
    }

    #[test]
    fn accounts_are_read_from_seed_benchs_json_lines() {
        let text = "{\"username\": \"learner00001\", \"password\": \"p\", \"email\": null}\n\
                    {\"username\": \"staff0001\", \"password\": \"q\", \"email\": \"s@x.org\"}\n";
        let accounts = parse_accounts(text).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].email, None);
        assert_eq!(accounts[1].email.as_deref(), Some("s@x.org"));
        assert!(parse_accounts("{\"username\": 1}").is_err());
    }

    #[tokio::test]
    #[ignore = "installs Django, django-allauth and gunicorn from PyPI"]
    async fn the_peer_signs_in_answers_recovery_alike_and_stops_with_its_workers() {
        let options = PeerOptions {
            learners: 3,
            staff: 2,
            hash: HashParams {
                memory_kib: 19456,
                iterations: 2,
                parallelism: 1,
            },
            workers: 2,
        };
        let peer = Peer::start(&options).await.expect("the peer starts");
        eprintln!("ready after {:?}", peer.ready_after);
        assert_eq!((peer.learners().len(), peer.staff().len()), (3, 2));
        let pids = peer.pids();
        assert_eq!(
            pids.len(),
            1 + options.workers,
            "master and workers: {pids:?}"
        );

        let client = probe_client().unwrap();
        let base = peer.base_url().to_owned();
        let learner = peer.learners()[0].clone();
        let right = send(&client, &base, &peer.sign_in(&learner)).await;
        let wrong_account = Account {
            password: "not-the-password".into(),
            ..learner
        };
        let wrong = send(&client, &base, &peer.sign_in(&wrong_account)).await;
        let staff_email = peer.staff()[0].email.clone().unwrap();
        let existing = send(&client, &base, &peer.recovery(&staff_email)).await;
        let missing = send(&client, &base, &peer.recovery("nobody@school.example.org")).await;
        let page = send(&client, &base, &peer.sign_in_page()).await;
        eprintln!(
            "sign-in right {right}, wrong {wrong}; recovery existing {existing}, missing {missing}; page {page}"
        );
        assert_eq!(right, 200);
        assert!(wrong == 400 || wrong == 401, "wrong password: {wrong}");
        assert_eq!(existing, missing);
        assert_eq!(page, 200);

        let stopping = Instant::now();
        drop(peer);
        eprintln!("stopped in {:?}", stopping.elapsed());
        for pid in pids {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !is_gone(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(is_gone(pid), "gunicorn process {pid} is still running");
        }
    }
}
