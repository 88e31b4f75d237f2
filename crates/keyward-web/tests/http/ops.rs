//! Operations endpoints: `/healthz`, `/readyz` and `/metrics`.

use axum::http::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let reply = app.get("/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text().trim(), "ok");
}

#[tokio::test]
async fn readyz_answers_ready_when_the_database_answers() {
    let app = spawn_app().await;
    let reply = app.get("/readyz").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.text().trim(), "ready");
}

#[tokio::test]
async fn metrics_report_request_latency_and_hashing_queue() {
    let app = spawn_app_with_admin().await;
    app.get("/healthz").await;
    app.api_sign_in(ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let reply = app.get("/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .content_type()
            .starts_with("application/openmetrics-text")
    );
    let text = reply.text();
    assert!(
        text.contains("keyward_http_request_duration_seconds"),
        "{text}"
    );
    assert!(text.contains("keyward_hashing_queue_depth"), "{text}");
    assert!(
        text.contains(
            "keyward_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"/api/v1/session\",status=\"200\""),
        "{text}"
    );
    assert!(text.contains("keyward_hashing_completed_total"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
}

#[tokio::test]
async fn metrics_never_carry_raw_paths() {
    let app = spawn_app().await;
    app.get("/recovery/secret-looking-token-123").await;
    app.get("/api/v1/nope/another-secret-456").await;
    let text = app.get("/metrics").await.text();
    assert!(!text.contains("secret-looking-token-123"), "{text}");
    assert!(!text.contains("another-secret-456"), "{text}");
    assert!(text.contains("route=\"unmatched\""), "{text}");
}
