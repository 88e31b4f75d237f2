//! school_export: the credentials CSV of a school of 10,000 learners (smoke:
//! 100). The platform admin makes a new school and imports its roster in one
//! `POST /api/v1/schools/{id}/roster` (pending learners in classes of 30,
//! each with an access code); keyward is then restarted on the same data, so
//! the export runs in a process whose memory holds nothing of the import.
//! `GET /api/v1/schools/{id}/credentials.csv` is then timed to its last
//! byte, checked for streaming (chunked, and the first byte well before the
//! last), and its cost in resident memory read from outside: VmHWM is reset
//! through `/proc/PID/clear_refs` before the download (and VmRSS sampled
//! during it, where the reset is not allowed), minus VmRSS before.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

use crate::keyward_server::KeywardServer;
use crate::process::{self, RssSampler};
use crate::report::Row;

/// Learners in the school, in a full run and a smoke run.
const LEARNERS: usize = 10_000;
const SMOKE_LEARNERS: usize = 100;
const CLASS_SIZE: usize = 30;
/// The goals: the last byte within a second, at most 50 MiB more memory.
const TARGET_SECS: f64 = 1.0;
const TARGET_EXTRA_MIB: f64 = 50.0;
/// Streamed means the first byte came before this share of the whole time.
const STREAMED_FIRST_BYTE_SHARE: f64 = 0.5;
/// How often resident memory is sampled during the download.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);

/// What the download looked like from the client.
struct Download {
    first_byte: Duration,
    last_byte: Duration,
    chunked: bool,
    body: Vec<u8>,
}

/// Runs on `server` (restarted on the way, see the module's doc).
pub async fn run(server: &mut KeywardServer, smoke: bool) -> anyhow::Result<Vec<Row>> {
    let size = if smoke { SMOKE_LEARNERS } else { LEARNERS };
    let school = seed_school(server, size).await?;
    server.restart().await?;
    let admin = server.demo("demo.admin")?.clone();
    let session = server.sign_in(&admin.username, &admin.password).await?;
    let path = format!("/api/v1/schools/{school}/credentials.csv");

    let pid = server.pid;
    let rss_before = process::read(pid)?.rss_kib;
    let hwm_reset = process::reset_peak(pid);
    let sampler = RssSampler::start(&[pid], SAMPLE_EVERY);
    let download = download(server, &session, &path).await;
    let sampled_peak = sampler.stop().await?.peak_kib.max(rss_before);
    let download = download?;
    let hwm_after = if hwm_reset {
        process::read(pid)?.hwm_kib
    } else {
        0
    };
    let rows = count_rows(&download.body)?;
    ensure!(
        rows == size,
        "the credentials CSV has {rows} learner rows, not {size}"
    );

    let extra_mib = hwm_after.max(sampled_peak).saturating_sub(rss_before) as f64 / 1024.0;
    let last_secs = download.last_byte.as_secs_f64();
    let share = download.first_byte.as_secs_f64() / last_secs.max(f64::MIN_POSITIVE);
    let streamed = download.chunked && share < STREAMED_FIRST_BYTE_SHARE;
    let row = |figure: String, value: f64, target: &str, ratio: f64| Row {
        scenario: "school_export".into(),
        database: server.database.into(),
        figure,
        value,
        target: target.into(),
        ratio: Some(ratio),
        peer: None,
    };
    Ok(vec![
        row(
            format!("credentials CSV of {size} learners, s to last byte"),
            last_secs,
            "≤ 1 s",
            TARGET_SECS / last_secs.max(f64::MIN_POSITIVE),
        ),
        row(
            format!(
                "streamed (1 = yes; chunked: {}, first byte at {:.0} % of the time)",
                if download.chunked { "yes" } else { "no" },
                share * 100.0
            ),
            f64::from(u8::from(streamed)),
            "streamed",
            f64::from(u8::from(streamed)),
        ),
        row(
            format!(
                "extra resident memory, MiB ({})",
                if hwm_reset {
                    "VmHWM after reset"
                } else {
                    "sampled VmRSS"
                }
            ),
            extra_mib,
            "≤ 50 MiB",
            TARGET_EXTRA_MIB / extra_mib.max(0.01),
        ),
    ])
}

/// A new school of `size` pending learners in classes of `CLASS_SIZE`,
/// made by the platform admin through the API; its id.
async fn seed_school(server: &KeywardServer, size: usize) -> anyhow::Result<String> {
    let admin = server.demo("demo.admin")?.clone();
    let session = server.sign_in(&admin.username, &admin.password).await?;
    let school = server
        .create_school(&session, &format!("Bench export {size}"))
        .await?;
    let created = server
        .import_roster(&session, &school, roster_csv(size))
        .await?;
    ensure!(
        created == size,
        "the roster import created {created} of {size}"
    );
    Ok(school)
}

/// `first_name,last_name,class` rows: learner `i` in class `i / 30`.
fn roster_csv(size: usize) -> String {
    let mut csv = String::from("first_name,last_name,class\n");
    for i in 0..size {
        csv.push_str(&format!(
            "Learner,Number {i},Class {}\n",
            i / CLASS_SIZE + 1
        ));
    }
    csv
}

/// Downloads `path` with the session, timing the first and the last byte.
async fn download(
    server: &KeywardServer,
    session: &crate::keyward_server::Session,
    path: &str,
) -> anyhow::Result<Download> {
    let client = crate::keyward_server::http_client(None)?;
    let mut request = client.get(format!("{}{path}", server.base_url));
    for (name, value) in &session.headers {
        request = request.header(name, value);
    }
    let started = Instant::now();
    let mut answer = request.send().await.context("downloading the CSV")?;
    ensure!(
        answer.status() == reqwest::StatusCode::OK,
        "the credentials CSV: status {}",
        answer.status()
    );
    let chunked = answer
        .headers()
        .get(reqwest::header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let mut body = Vec::new();
    let mut first_byte = None;
    while let Some(chunk) = answer.chunk().await.context("reading the CSV")? {
        first_byte.get_or_insert_with(|| started.elapsed());
        body.extend_from_slice(&chunk);
    }
    let last_byte = started.elapsed();
    Ok(Download {
        first_byte: first_byte.unwrap_or(last_byte),
        last_byte,
        chunked,
        body,
    })
}

/// Learner rows of the CSV (records after the header).
fn count_rows(body: &[u8]) -> anyhow::Result<usize> {
    let mut reader = csv::Reader::from_reader(body);
    let mut rows = 0;
    for record in reader.records() {
        record.context("the credentials CSV does not parse")?;
        rows += 1;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyward_server::testing;

    #[tokio::test]
    async fn smoke_run_exports_every_learner() {
        let Some(bin) = testing::debug_binary() else {
            return;
        };
        for options in testing::each_database(&bin) {
            let mut server = KeywardServer::start(&options).await.expect("start");
            let rows = run(&mut server, true).await.expect("school_export");
            eprintln!("{rows:#?}");
            assert_eq!(rows.len(), 3);
            server.stop().await.expect("stop");
        }
    }

    /// The full scenario on the release build (see class_reset's).
    #[tokio::test]
    #[ignore = "a full run on target/release/keyward; prints its figures"]
    async fn full_run_on_the_release_build() {
        let bin = testing::release_binary();
        for options in testing::each_database(&bin) {
            let mut server = KeywardServer::start(&options).await.expect("start");
            let rows = run(&mut server, false).await.expect("school_export");
            eprintln!("{rows:#?}");
            server.stop().await.expect("stop");
        }
    }
}
