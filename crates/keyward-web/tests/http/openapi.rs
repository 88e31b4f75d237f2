//! The OpenAPI document (R-API-1): served as JSON, generated from the
//! handlers, and the same as `keyward_web::openapi_document()`.

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn openapi_document_lists_the_session_calls() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type().starts_with("application/json"));
    let doc = reply.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    let paths = &doc["paths"];
    assert!(paths["/api/v1/session"]["post"].is_object(), "{paths}");
    assert!(paths["/api/v1/session"]["delete"].is_object(), "{paths}");
    assert!(paths["/api/v1/me"]["get"].is_object(), "{paths}");
    let sign_in = &paths["/api/v1/session"]["post"];
    for status in ["200", "400", "401", "413", "415", "422", "429", "503"] {
        assert!(
            sign_in["responses"][status].is_object(),
            "no {status} documented"
        );
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["session_cookie"].is_object());
}

#[tokio::test]
async fn served_openapi_document_is_the_generated_one() {
    let app = spawn_app().await;
    let served = app.get("/api/v1/openapi.json").await.json();
    let generated: Value =
        serde_json::to_value(keyward_web::openapi_document()).expect("document serialises");
    assert_eq!(served, generated);
}

#[tokio::test]
async fn every_documented_path_is_routed() {
    let app = spawn_app().await;
    let doc = serde_json::to_value(keyward_web::openapi_document()).unwrap();
    for path in doc["paths"].as_object().expect("paths").keys() {
        let reply = app.get(path).await;
        // A routed path may answer 404 for its own reasons (an unknown link
        // token), but never the router's `not_found`.
        let unrouted =
            reply.status == StatusCode::NOT_FOUND && reply.json()["error"] == "not_found";
        assert!(!unrouted, "{path} is documented but not routed");
    }
}
