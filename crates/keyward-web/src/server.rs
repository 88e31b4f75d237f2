//! Running the router on a socket: bind (port 0 in tests), serve with client
//! addresses, and shut down gracefully — stop accepting, let requests in
//! flight finish, give up after the grace period. With `server.metrics_bind`
//! set, `/metrics` is served on a second listener that starts and stops with
//! the main one.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpSocket};

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

/// Connections the kernel completes and queues before keyward accepts them.
/// tokio's `TcpListener::bind` asks for 128, like the standard library: when
/// a class's worth of browsers connect in the same instant beyond that, the
/// kernel drops their SYNs and they wait a full second for the retransmit.
/// Linux caps it at `net.core.somaxconn` (4096 by default).
const LISTEN_BACKLOG: u32 = 1024;

async fn listen(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    let bind = || -> std::io::Result<TcpListener> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        // As tokio's bind does: a restarted keyward gets its port back at once.
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(LISTEN_BACKLOG)
    };
    bind().map_err(|cause| ServerError::Bind { addr, cause })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// 300 browsers connecting in one instant, before keyward accepts any:
    /// with tokio's backlog of 128 the rest wait a second for a SYN retransmit.
    #[tokio::test]
    async fn a_burst_of_connections_is_queued_not_dropped() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connects = (0..300).map(|_| {
            tokio::time::timeout(
                Duration::from_millis(700),
                tokio::net::TcpStream::connect(addr),
            )
        });
        let results = futures_util::future::join_all(connects).await;
        let connected = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        assert_eq!(connected, 300, "connections queued before the first accept");
        drop(listener);
    }
}
