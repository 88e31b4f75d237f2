//! Operations endpoints: `/healthz`, `/readyz` and `/metrics` (on the
//! metrics listener's router; the main router answers 404 for it).

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
    let reply = app.metrics().await;
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
    let text = app.metrics().await.text();
    assert!(!text.contains("secret-looking-token-123"), "{text}");
    assert!(!text.contains("another-secret-456"), "{text}");
    assert!(text.contains("route=\"unmatched\""), "{text}");
}

#[tokio::test]
async fn the_main_listener_has_no_metrics() {
    let app = spawn_app().await;
    let reply = app.get("/metrics").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(!reply.text().contains("keyward_"), "{}", reply.text());
}

/// Every sample of the metrics text that does not depend on timing or mail:
/// `name{labels}` → value, without histogram buckets and sums (durations)
/// and without the email counters (which the spec keeps on the private
/// listener precisely because they differ).
fn countable_samples(text: &str) -> std::collections::BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(name, _)| {
            !name.starts_with("keyward_emails_")
                && !name.contains("_bucket")
                && !name.contains("_sum")
                && !name.starts_with("keyward_hashing_wait_seconds")
        })
        .filter_map(|(name, value)| Some((name.to_owned(), value.parse().ok()?)))
        .collect()
}

fn growth(
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
) -> Vec<(String, f64)> {
    after
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                value - before.get(name).copied().unwrap_or(0.0),
            )
        })
        .filter(|(_, grown)| *grown != 0.0)
        .collect()
}

#[tokio::test]
async fn recovery_for_an_existing_and_a_missing_account_moves_the_same_metrics() {
    let app = spawn_app().await;
    let rng = keyward_core::types::random::SeededRandom::new(3);
    let ctx = keyward_core::testing::ctx_at(keyward_core::testing::MONDAY_MORNING, &rng);
    let email = keyward_core::types::EmailAddress::parse("head@school.example").unwrap();
    app.kw
        .create_platform_admin(
            &ctx,
            &keyward_core::types::Username::parse(ADMIN_USERNAME).unwrap(),
            Some(&email),
            &keyward_core::types::Password::from(ADMIN_PASSWORD),
        )
        .await
        .unwrap();
    // Signed in once, so the account gets a real reset link.
    assert!(signs_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await);
    let request = |username: &str| {
        json_post(
            "/api/v1/recovery",
            &serde_json::json!({ "username": username }),
        )
    };
    let before = countable_samples(&app.metrics().await.text());
    let existing = app.send(request(ADMIN_USERNAME)).await;
    let middle = countable_samples(&app.metrics().await.text());
    let missing = app.send(request("Nobody.Here")).await;
    let after = countable_samples(&app.metrics().await.text());
    assert_eq!(existing.status, missing.status);
    let (for_existing, for_missing) = (growth(&before, &middle), growth(&middle, &after));
    assert!(!for_existing.is_empty(), "the request was counted");
    assert_eq!(for_existing, for_missing);
}
