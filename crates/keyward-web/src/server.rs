//! Running the router on a socket: bind (port 0 in tests), serve with client
//! addresses, and shut down gracefully — stop accepting, let requests in
//! flight finish, give up after the grace period. With `server.metrics_bind`
//! set, `/metrics` is served on a second listener that starts and stops with
//! the main one.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::ops::metrics_router;
use crate::router::router;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {cause}")]
    Bind {
        addr: SocketAddr,
        cause: std::io::Error,
    },
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

pub struct Server {
    listener: TcpListener,
    app: Router,
    /// The `/metrics` listener and its router, when `server.metrics_bind` is set.
    metrics: Option<(TcpListener, Router)>,
    grace: Duration,
}

async fn listen(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|cause| ServerError::Bind { addr, cause })
}

impl Server {
    pub async fn bind(state: AppState, addr: SocketAddr) -> Result<Server, ServerError> {
        let listener = listen(addr).await?;
        let metrics = match state.kw.settings().server.metrics_bind {
            Some(metrics_addr) => {
                Some((listen(metrics_addr).await?, metrics_router(state.clone())))
            }
            None => None,
        };
        let grace = state.kw.settings().server.shutdown_grace;
        Ok(Server {
            listener,
            app: router(state),
            metrics,
            grace,
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// The address `/metrics` is served on, if any.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Serves until `shutdown` completes, then drains for at most the grace period.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stopped| *stopped).await;
        };
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: finishing requests in flight");
            let _ = stop_tx.send(true);
        };
        // The metrics listener closes on the same signal; a scrape in flight
        // is not worth waiting for, so it is dropped with the main server.
        let metrics = self.metrics.map(|(listener, app)| {
            let stop = stopped(stop_rx.clone());
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stop)
                    .await
            })
        });
        let serve = axum::serve(
            self.listener,
            self.app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal);
        let grace = self.grace;
        let wait = stopped(stop_rx);
        let deadline = async move {
            wait.await;
            tokio::time::sleep(grace).await;
        };
        let result = tokio::select! {
            result = serve => result.map_err(ServerError::Serve),
            () = deadline => {
                tracing::warn!("grace period over; closing remaining connections");
                Ok(())
            }
        };
        if let Some(metrics) = metrics {
            metrics.abort();
            let _ = metrics.await;
        }
        result
    }
}
