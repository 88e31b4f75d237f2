//! Running the router on a socket: bind (port 0 in tests), serve with client
//! addresses, and shut down gracefully — stop accepting, let requests in
//! flight finish, give up after the grace period.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

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
    grace: Duration,
}

impl Server {
    pub async fn bind(state: AppState, addr: SocketAddr) -> Result<Server, ServerError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|cause| ServerError::Bind { addr, cause })?;
        let grace = state.kw.settings().server.shutdown_grace;
        Ok(Server {
            listener,
            app: router(state),
            grace,
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves until `shutdown` completes, then drains for at most the grace period.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut stop_wait = stop_rx.clone();
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: finishing requests in flight");
            let _ = stop_tx.send(true);
        };
        let serve = axum::serve(
            self.listener,
            self.app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal);
        let grace = self.grace;
        let deadline = async move {
            let _ = stop_wait.wait_for(|stopped| *stopped).await;
            tokio::time::sleep(grace).await;
        };
        drop(stop_rx);
        tokio::select! {
            result = serve => result.map_err(ServerError::Serve),
            () = deadline => {
                tracing::warn!("grace period over; closing remaining connections");
                Ok(())
            }
        }
    }
}
