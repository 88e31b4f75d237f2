//! `keyward serve`: migrate, then serve until Ctrl-C or SIGTERM.

use std::sync::Arc;

use keyward_core::Keyward;
use keyward_core::settings::Settings;
use keyward_web::{AppState, Server};

use super::{CommandError, failed, open, shutdown_signal};

pub async fn run(settings: Settings) -> Result<(), CommandError> {
    let kw = open(settings).await?;
    serve(kw, |_| {}).await
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
    ready(addr);
    server.run(shutdown_signal()).await.map_err(failed)?;
    kw.db().close().await;
    tracing::info!("keyward stopped");
    Ok(())
}
