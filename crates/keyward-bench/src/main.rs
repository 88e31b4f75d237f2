//! `keyward-bench`: measures keyward from outside the process against the
//! machine's Argon2id limit and against a peer a school might deploy instead
//! (Django's auth with django-allauth under gunicorn), and prints one table.
//!
//! ```text
//! cargo run -p keyward-bench --release -- all [--db sqlite|postgres] [--smoke] [--no-peer]
//! ```
//!
//! It builds what it runs (a release `keyward`, the peer's virtual
//! environment), starts keyward on loopback with a fresh database, seeds it
//! through keyward's own API, drives each scenario with its own load
//! generator ([`load`]) from many loopback source addresses, reads CPU and
//! memory from `/proc`, and asserts no duration: a figure that misses its
//! target is printed as a ratio, not a failure. It exits non-zero only when
//! a run could not be made (a server that never got ready, a 5xx where none
//! may be, a wrong answer).

mod hash_limit;
mod keyward_server;
mod load;
mod peer;
mod process;
mod report;
mod scenarios;
mod smtp_sink;
mod subject;

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug, Clone)]
#[command(about = "keyward's bench harness (see docs/benchmarks.md)")]
pub struct Args {
    /// What to run: `all`, `hash` (the raw hashing limit only) or one scenario's name.
    #[arg(default_value = "all")]
    pub what: String,
    /// The database keyward runs on: a fresh SQLite file, or a fresh database
    /// on the PostgreSQL server of `--postgres-url`.
    #[arg(long, value_enum, default_value_t = Db::Sqlite)]
    pub db: Db,
    /// The PostgreSQL server a fresh database is made on (and dropped after).
    #[arg(
        long,
        env = "KEYWARD_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres_url: String,
    /// Tiny sizes and about a second per scenario: checks that the harness
    /// works (the test command runs it), measures nothing worth keeping.
    #[arg(long)]
    pub smoke: bool,
    /// Leave out the peer (Django + allauth).
    #[arg(long)]
    pub no_peer: bool,
    /// The keyward binary to run; by default `cargo build --release -p keyward`
    /// is run first and target/release/keyward used.
    #[arg(long, env = "KEYWARD_BENCH_BIN")]
    pub keyward_bin: Option<PathBuf>,
    /// Also write the table, the machine and the plots as Markdown and SVG
    /// into this folder (docs/benchmarks.md is made from it).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if args.what == "hash" {
        return print_hash_limit(args.smoke);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("keyward-bench: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(scenarios::run(&args)) {
        Ok(table) => {
            print!("{}", report::text_table(&table));
            if let Some(out) = &args.out
                && let Err(err) = report::write_files(&table, out)
            {
                eprintln!("keyward-bench: {err:#}");
                return std::process::ExitCode::from(1);
            }
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("keyward-bench: {err:#}");
            std::process::ExitCode::from(1)
        }
    }
}

/// `hash`: only the machine's raw hashing limit, with keyward's default
/// parameters and one hashing thread per core.
fn print_hash_limit(smoke: bool) -> std::process::ExitCode {
    let defaults = keyward_core::settings::HashingSettings::default();
    let params = hash_limit::HashParams {
        memory_kib: defaults.memory_kib,
        iterations: defaults.iterations,
        parallelism: defaults.parallelism,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let duration = std::time::Duration::from_millis(if smoke { 500 } else { 5000 });
    println!("Argon2id {params:?}, {threads} hashing threads, {duration:?} each");
    match hash_limit::measure(params, threads, duration) {
        Ok(limits) => {
            for limit in &limits {
                println!(
                    "  {:<48} {:>8.1} hashes/s {:>7.2} CPU ms/hash",
                    limit.implementation, limit.hashes_per_sec, limit.cpu_ms_per_hash
                );
            }
            if let Some(fastest) = limits
                .iter()
                .max_by(|a, b| a.hashes_per_sec.total_cmp(&b.hashes_per_sec))
            {
                println!(
                    "limit = fastest = {} ({:.1} hashes/s); keyward ÷ limit = {:.2}",
                    fastest.implementation,
                    fastest.hashes_per_sec,
                    limits[0].hashes_per_sec / fastest.hashes_per_sec
                );
            }
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("keyward-bench: {err:#}");
            std::process::ExitCode::from(1)
        }
    }
}
