//! `keyward serve`: migrate, then serve (with the outbox worker and the purge
//! task) until Ctrl-C or SIGTERM.

use std::sync::Arc;

use keyward_core::Keyward;
use keyward_core::dispatch::worker::run_outbox_worker;
use keyward_core::purge::worker::run_purge_worker;
use keyward_core::settings::Settings;
use keyward_web::{AppState, Server};

use super::{CommandError, failed, open, shutdown_signal};

pub async fn run(settings: Settings) -> Result<(), CommandError> {
    warn_about(&settings, &[]);
    let kw = open(settings).await?;
    serve(kw, |_| {}).await
}

/// Logs the settings' start-up warnings, except those of the keys in `except`.
pub fn warn_about(settings: &Settings, except: &[&str]) {
    for (key, warning) in settings.start_up_warnings() {
        if !except.contains(&key) {
            tracing::warn!(setting = key, "{warning}");
        }
    }
}

/// Binds, calls `ready` with the address, and serves until a signal.
pub async fn serve(
    kw: Arc<Keyward>,
    ready: impl FnOnce(std::net::SocketAddr),
) -> Result<(), CommandError> {
    let bind = kw.settings().server.bind;
    let backend = kw.db().backend().name();
    let public_url = kw.settings().server.public_url.to_string();
    let server = Server::bind(AppState::new(kw.clone()), bind)
        .await
        .map_err(failed)?;
    let addr = server.local_addr().unwrap_or(bind);
    tracing::info!(%addr, %public_url, database = backend, "keyward is listening");
    if let Some(metrics) = server.metrics_addr() {
        tracing::info!(addr = %metrics, "metrics are served at /metrics");
    }
    ready(addr);
    // The outbox worker and the purge task run beside the server and stop
    // with it, after the requests in flight (which may have written mail)
    // have finished.
    let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(run_outbox_worker(kw.clone(), workers_stop.clone()));
    let purge = tokio::spawn(run_purge_worker(kw.clone(), workers_stop));
    let served = server.run(shutdown_signal()).await;
    let _ = stop_workers.send(true);
    let _ = worker.await;
    let _ = purge.await;
    served.map_err(failed)?;
    kw.db().close().await;
    tracing::info!("keyward stopped");
    Ok(())
}
