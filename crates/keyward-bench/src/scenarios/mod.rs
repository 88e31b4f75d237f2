//! The scenarios (signin_storm, signin_steady, recovery_request,
//! outbox_drain, class_reset, school_export, page, idle) and the run that
//! strings them together into one table: the machine's hashing limit first,
//! then keyward on a fresh database (idle, seeding, each scenario), then the
//! peer for the scenarios both have; the peer's figures land in the peer
//! column of keyward's rows.

pub mod class_reset;
pub mod export;
mod figures;
mod idle;
pub mod outbox;
mod page;
mod recovery;
mod signin;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

use crate::hash_limit::{self, HashLimit, HashParams};
use crate::keyward_server::{KeywardServer, LEARNER_PASSWORD, ServerOptions};
use crate::load::Request;
use crate::peer::{Peer, PeerOptions};
use crate::report::{Row, Series, Table};
use crate::subject::Subject;
use crate::{Args, Db};

pub use page::ClassPage;

/// Every scenario's name, in the order they run.
pub const SCENARIOS: [&str; 8] = [
    "idle",
    "signin_storm",
    "signin_steady",
    "recovery_request",
    "page",
    "outbox_drain",
    "class_reset",
    "school_export",
];

/// How big each scenario is.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub learners: usize,
    /// People with an email address (recovery's existing half).
    pub staff: usize,
    pub storm_sign_ins: usize,
    pub storm_in_flight: Vec<usize>,
    /// Requests in flight in the other scenarios.
    pub in_flight: usize,
    /// Loopback source addresses the connections are spread over.
    pub sources: usize,
    pub steady: Duration,
    pub recovery: Duration,
    pub page: Duration,
    pub hash_limit: Duration,
    /// Learners in the class whose page is measured.
    pub class_size: usize,
}

impl Sizes {
    pub fn full() -> Sizes {
        Sizes {
            learners: 500,
            staff: 100,
            storm_sign_ins: 2_000,
            storm_in_flight: vec![64, 256],
            in_flight: 64,
            sources: 64,
            steady: Duration::from_secs(30),
            recovery: Duration::from_secs(15),
            page: Duration::from_secs(10),
            hash_limit: Duration::from_secs(5),
            class_size: 30,
        }
    }

    /// Tiny sizes, about a second a scenario: checks the harness works.
    pub fn smoke() -> Sizes {
        Sizes {
            learners: 10,
            staff: 4,
            storm_sign_ins: 20,
            steady: Duration::from_secs(1),
            recovery: Duration::from_secs(1),
            page: Duration::from_secs(1),
            hash_limit: Duration::from_millis(300),
            class_size: 3,
            ..Sizes::full()
        }
    }
}

/// The machine's hashing limit: the fastest implementation's throughput
/// with one thread per core, and its CPU time for one hash.
#[derive(Debug, Clone)]
pub struct Limit {
    pub implementation: String,
    pub hashes_per_sec: f64,
    pub cpu_ms_per_hash: f64,
}

/// What every scenario is given.
#[derive(Debug, Clone)]
pub struct Context {
    /// keyward's database, as the table names it ("SQLite", "PostgreSQL").
    pub database: String,
    pub limit: Limit,
    pub sizes: Sizes,
    pub hash: HashParams,
    /// keyward's `hashing.max_concurrent` (its default: one per core).
    pub max_concurrent: usize,
    pub cores: usize,
    /// `--smoke`: tiny sizes (the scenarios that size themselves ask).
    pub smoke: bool,
}

impl Context {
    /// One Argon2 memory block, MiB.
    pub fn hash_block_mib(&self) -> f64 {
        f64::from(self.hash.memory_kib) / 1024.0
    }
}

/// What a scenario adds to the table.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub rows: Vec<Row>,
    pub series: Vec<Series>,
}

impl Figures {
    fn add(&mut self, more: Figures) {
        self.rows.extend(more.rows);
        self.series.extend(more.series);
    }
}

/// Which scenarios were asked for (`all`, `hash` or one name).
#[derive(Debug, Clone)]
pub struct Selection(String);

impl Selection {
    pub fn parse(what: &str) -> anyhow::Result<Selection> {
        anyhow::ensure!(
            what == "all" || what == "hash" || SCENARIOS.contains(&what),
            "no scenario {what:?}: use all, hash or one of {}",
            SCENARIOS.join(", ")
        );
        Ok(Selection(what.to_owned()))
    }

    /// Whether `scenario` runs; signin_steady needs the storm's rate, so
    /// asking for it runs the storm too.
    pub fn wants(&self, scenario: &str) -> bool {
        self.0 == "all"
            || self.0 == scenario
            || (scenario == "signin_storm" && self.0 == "signin_steady")
    }

    fn only_hash(&self) -> bool {
        self.0 == "hash"
    }

    /// Whether a scenario the peer also runs is asked for.
    fn wants_shared(&self) -> bool {
        ["signin_storm", "recovery_request", "page", "idle"]
            .iter()
            .any(|s| self.wants(s))
    }
}

pub async fn run(args: &Args) -> anyhow::Result<Table> {
    let selection = Selection::parse(&args.what)?;
    let sizes = if args.smoke {
        Sizes::smoke()
    } else {
        Sizes::full()
    };
    let hashing = keyward_core::settings::HashingSettings::default();
    let hash = HashParams {
        memory_kib: hashing.memory_kib,
        iterations: hashing.iterations,
        parallelism: hashing.parallelism,
    };
    let mut table = Table::default();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let limits = hash_limits(hash, cores, sizes.hash_limit).await?;
    table.rows.extend(hash_limit_rows(&limits));
    if selection.only_hash() {
        return Ok(table);
    }
    let context = Context {
        database: database_name(args.db).to_owned(),
        limit: fastest(&limits)?,
        sizes,
        hash,
        max_concurrent: hashing.max_concurrent,
        cores,
        smoke: args.smoke,
    };
    let mut keyward = run_keyward(args, &context, &selection).await?;
    if !args.no_peer && selection.wants_shared() {
        match run_peer(&context, &selection).await {
            Ok(peer) => {
                merge_peer(&mut keyward.rows, &peer.rows);
                keyward.series.extend(peer.series);
            }
            // keyward's figures stand on their own; the peer column stays empty.
            Err(err) => eprintln!("keyward-bench: the peer was not measured: {err:#}"),
        }
    }
    table.rows.extend(keyward.rows);
    table.series.extend(keyward.series);
    refuse_failures(&table)?;
    Ok(table)
}

pub fn database_name(db: Db) -> &'static str {
    match db {
        Db::Sqlite => "SQLite",
        Db::Postgres => "PostgreSQL",
    }
}

/// Every implementation's hashing throughput, one thread per core.
async fn hash_limits(
    hash: HashParams,
    threads: usize,
    duration: Duration,
) -> anyhow::Result<Vec<HashLimit>> {
    tokio::task::spawn_blocking(move || hash_limit::measure(hash, threads, duration))
        .await
        .context("the hashing limit's measurement failed")?
        .context("measuring the hashing limit")
}

fn hash_limit_rows(limits: &[HashLimit]) -> Vec<Row> {
    let row = |figure: String, value: f64| Row {
        scenario: "hash_limit".into(),
        database: "—".into(),
        figure,
        value,
        target: "— (the fastest is the limit)".into(),
        ratio: None,
        peer: None,
    };
    limits
        .iter()
        .flat_map(|limit| {
            [
                row(
                    format!("hashes/s, {}", limit.implementation),
                    limit.hashes_per_sec,
                ),
                row(
                    format!("CPU ms per hash, {}", limit.implementation),
                    limit.cpu_ms_per_hash,
                ),
            ]
        })
        .collect()
}

/// The fastest implementation is the limit sign-ins are divided by.
fn fastest(limits: &[HashLimit]) -> anyhow::Result<Limit> {
    let best = limits
        .iter()
        .filter(|limit| limit.hashes_per_sec > 0.0)
        .max_by(|a, b| a.hashes_per_sec.total_cmp(&b.hashes_per_sec))
        .context("no hashing implementation was measured")?;
    Ok(Limit {
        implementation: best.implementation.clone(),
        hashes_per_sec: best.hashes_per_sec,
        cpu_ms_per_hash: best.cpu_ms_per_hash,
    })
}

/// The scenarios keyward and the peer both run, against one subject.
async fn run_shared(
    context: &Context,
    subject: &dyn Subject,
    selection: &Selection,
    class_page: Option<&ClassPage>,
) -> anyhow::Result<Figures> {
    let mut figures = Figures::default();
    if selection.wants("signin_storm") {
        let storm = signin::storm(context, subject).await?;
        figures.add(storm.figures);
        if selection.wants("signin_steady") {
            figures.add(signin::steady(context, subject, storm.best_per_sec).await?);
        }
    }
    if selection.wants("recovery_request") {
        figures.add(recovery::run(context, subject).await?);
    }
    if selection.wants("page") {
        figures.add(page::run(context, subject, class_page).await?);
    }
    Ok(figures)
}

/// keyward on a fresh database: idle, then seeding, then every scenario;
/// the export last (it restarts keyward), and outbox_drain on a keyward of
/// its own after this one has stopped.
async fn run_keyward(
    args: &Args,
    context: &Context,
    selection: &Selection,
) -> anyhow::Result<Figures> {
    let bin = keyward_bin(args).await?;
    let (name, value) = recovery::ADDRESS_LIMIT_ENV;
    let options = ServerOptions::new(bin, args.db, &args.postgres_url).with_env(name, value);
    let mut server = KeywardServer::start(&options).await?;
    let mut figures = Figures::default();
    if selection.wants("idle") {
        figures.add(idle::run(context, &[server.pid], Some(server.ready_after))?);
    }
    let class_page = seed(&mut server, context, selection).await?;
    figures.add(run_shared(context, &server, selection, class_page.as_ref()).await?);
    if selection.wants("class_reset") {
        let rows = class_reset::run(
            &server,
            context.limit.cpu_ms_per_hash,
            context.cores,
            context.smoke,
        )
        .await?;
        figures.rows.extend(rows);
    }
    if selection.wants("school_export") {
        figures
            .rows
            .extend(export::run(&mut server, context.smoke).await?);
    }
    let stopped = server.stop().await?;
    anyhow::ensure!(
        stopped.status.success() && !stopped.killed,
        "keyward did not stop cleanly on SIGTERM: {stopped:?}"
    );
    eprintln!(
        "keyward stopped on SIGTERM in {} ms",
        stopped.took.as_millis()
    );
    if selection.wants("outbox_drain") {
        figures
            .rows
            .extend(outbox::run(&options, context.smoke).await?);
    }
    Ok(figures)
}

/// Seeds what the asked-for scenarios need through keyward's API: learners
/// (sign-ins), staff with email addresses (recovery), and a class of
/// learners whose page the lead teacher opens (page).
async fn seed(
    server: &mut KeywardServer,
    context: &Context,
    selection: &Selection,
) -> anyhow::Result<Option<ClassPage>> {
    if selection.wants("signin_storm") {
        server.seed_learners(context.sizes.learners).await?;
    }
    if selection.wants("recovery_request") {
        server.seed_staff(context.sizes.staff).await?;
    }
    if !selection.wants("page") {
        return Ok(None);
    }
    class_page(server, context.sizes.class_size).await.map(Some)
}

/// A class of `learners` made by the demo lead teacher, and its page
/// (`/classes/{id}`) with the teacher's session.
async fn class_page(server: &KeywardServer, learners: usize) -> anyhow::Result<ClassPage> {
    let lead = server.demo("demo.lead")?.clone();
    let session = server.sign_in(&lead.username, &lead.password).await?;
    let class = server.create_class(&session, "Bench class page").await?;
    server
        .join_learners(&class.code, learners, LEARNER_PASSWORD)
        .await?;
    let page = Request::get(format!("/classes/{}", class.id));
    let request = session.headers.iter().fold(page, |request, (name, value)| {
        request.header(name, value.as_str())
    });
    Ok(ClassPage { request, learners })
}

/// The peer with as many learners and staff, the same hashing parameters
/// and 2 workers: the scenarios both have.
async fn run_peer(context: &Context, selection: &Selection) -> anyhow::Result<Figures> {
    let options = PeerOptions {
        learners: context.sizes.learners,
        staff: context.sizes.staff,
        hash: context.hash,
        workers: 2,
    };
    let peer = Peer::start(&options).await?;
    let mut figures = Figures::default();
    if selection.wants("idle") {
        figures.add(idle::run(context, &peer.pids(), Some(peer.ready_after))?);
    }
    figures.add(run_shared(context, &peer, selection, None).await?);
    Ok(figures)
}

/// The `--keyward-bin`, or target/release/keyward after `cargo build
/// --release -p keyward`.
async fn keyward_bin(args: &Args) -> anyhow::Result<PathBuf> {
    if let Some(bin) = &args.keyward_bin {
        anyhow::ensure!(bin.is_file(), "{}: no such keyward binary", bin.display());
        return Ok(bin.clone());
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = {
        let workspace = workspace.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(cargo)
                .args(["build", "--release", "-p", "keyward", "--bin", "keyward"])
                .current_dir(workspace)
                .status()
        })
    };
    let status = build
        .await
        .context("cargo build failed to run")?
        .context("running cargo build --release -p keyward")?;
    anyhow::ensure!(
        status.success(),
        "cargo build --release -p keyward: {status}"
    );
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    Ok(target.join("release/keyward"))
}

/// Puts the peer's value of each figure in keyward's row, and applies the
/// targets that are a multiple of the peer's figure.
fn merge_peer(keyward: &mut [Row], peer: &[Row]) {
    for row in keyward {
        let Some(theirs) = peer
            .iter()
            .find(|p| p.scenario == row.scenario && p.figure == row.figure)
        else {
            continue;
        };
        row.peer = Some(theirs.value);
        if let Some(multiple) = peer_multiple(row)
            && let Some(against_peer) = figures::at_least(row.value, multiple * theirs.value)
        {
            row.ratio = Some(row.ratio.map_or(against_peer, |r| r.min(against_peer)));
        }
    }
}

/// The figures whose target is also "≥ N × the peer".
fn peer_multiple(row: &Row) -> Option<f64> {
    match (row.scenario.as_str(), row.figure.as_str()) {
        ("recovery_request", recovery::RATE_FIGURE) => Some(recovery::PEER_MULTIPLE),
        ("page", page::SIGN_IN_PAGE_FIGURE) => Some(page::PEER_MULTIPLE),
        _ => None,
    }
}

/// A 5xx (or no answer) from keyward where none may be fails the run, after
/// the table is shown on standard error.
fn refuse_failures(table: &Table) -> anyhow::Result<()> {
    let failed: Vec<String> = table
        .rows
        .iter()
        .filter(|row| row.figure.contains("5xx") && row.value > 0.0)
        .map(|row| format!("{} {}: {}", row.scenario, row.figure, row.value))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    eprint!("{}", crate::report::text_table(table));
    anyhow::bail!("keyward failed requests:\n{}", failed.join("\n"))
}

#[cfg(test)]
mod tests;
