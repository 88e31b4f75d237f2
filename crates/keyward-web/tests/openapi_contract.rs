//! The OpenAPI document tells what the server answers (issue 11): operation
//! ids are unique and pinned; every state-changing operation that takes the
//! session cookie declares the CSRF header; the answers of the extractors and
//! middleware (401, 400/413/415/422 for a JSON body, 503 with `Retry-After`)
//! are documented wherever they can happen; every error code the document
//! names is in the one list (`keyward_core::error::Code`); and the enums and
//! bounds the handlers enforce are in the schemas. `scripts/api-fuzz` checks the same document
//! against the running server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use keyward_core::error::Code;
use keyward_web::status_of;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

fn document() -> Value {
    serde_json::to_value(keyward_web::openapi_document()).expect("the document serialises")
}

/// Every operation as (method, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                all.push((method.to_owned(), path.clone(), operation.clone()));
            }
        }
    }
    assert!(all.len() >= 36, "only {} operations documented", all.len());
    all
}

fn changes_state(method: &str) -> bool {
    matches!(method, "post" | "put" | "patch" | "delete")
}

/// The security requirements of an operation (each a set of scheme names).
fn requirements(operation: &Value) -> Vec<BTreeSet<String>> {
    operation["security"]
        .as_array()
        .map(|all| {
            all.iter()
                .map(|req| {
                    req.as_object()
                        .map(|o| o.keys().cloned().collect())
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn takes_session(operation: &Value) -> bool {
    requirements(operation)
        .iter()
        .any(|req| req.contains("session_cookie"))
}

fn has_json_body(operation: &Value) -> bool {
    operation["requestBody"]["content"]["application/json"].is_object()
}

fn answers(operation: &Value) -> &serde_json::Map<String, Value> {
    operation["responses"].as_object().expect("responses")
}

/// The operation ids, pinned: clients generate names from them, so a rename
/// (of a handler function, say) must be a decision, not an accident.
const OPERATION_IDS: &[(&str, &str, &str)] = &[
    ("delete", "/api/v1/me/mfa", "disable_mfa"),
    ("get", "/api/v1/me/mfa", "mfa_status"),
    (
        "post",
        "/api/v1/me/mfa/recovery-codes",
        "regenerate_recovery_codes",
    ),
    ("post", "/api/v1/me/mfa/totp", "start_totp_enrolment"),
    (
        "post",
        "/api/v1/me/mfa/totp/confirm",
        "confirm_totp_enrolment",
    ),
    ("post", "/api/v1/session/mfa", "finish_sign_in_mfa"),
    ("get", "/api/v1/schools/{id}/mfa", "show_school_mfa_rule"),
    ("put", "/api/v1/schools/{id}/mfa", "set_school_mfa_rule"),
    ("post", "/api/v1/activate", "activate"),
    ("get", "/api/v1/audit", "browse_audit"),
    ("get", "/api/v1/audit.csv", "export_audit_csv"),
    ("get", "/api/v1/classes", "class_database"),
    ("get", "/api/v1/classes/{id}/class-code", "show_class_code"),
    (
        "post",
        "/api/v1/classes/{id}/class-code",
        "change_class_code",
    ),
    ("get", "/api/v1/classes/{id}/credentials.csv", "class_csv"),
    ("get", "/api/v1/classes/{id}/learners", "class_learners"),
    (
        "post",
        "/api/v1/classes/{id}/password-reset",
        "reset_class_passwords",
    ),
    ("post", "/api/v1/join", "join"),
    (
        "get",
        "/api/v1/learners/{id}/password",
        "reveal_learner_password",
    ),
    (
        "post",
        "/api/v1/learners/{id}/password",
        "reset_learner_password",
    ),
    ("get", "/api/v1/me", "me"),
    ("get", "/api/v1/me/children", "list_children"),
    ("post", "/api/v1/me/children", "link_child"),
    ("post", "/api/v1/me/classes", "join_another_class"),
    ("post", "/api/v1/me/email", "change_email"),
    ("put", "/api/v1/me/locale", "set_locale"),
    ("post", "/api/v1/me/password", "change_password"),
    ("get", "/api/v1/me/sessions", "list_own_sessions"),
    ("delete", "/api/v1/me/sessions", "end_other_sessions"),
    ("delete", "/api/v1/me/sessions/{id}", "end_own_session"),
    ("get", "/api/v1/me/passkeys", "list_passkeys"),
    ("post", "/api/v1/me/passkeys", "finish_passkey_registration"),
    (
        "post",
        "/api/v1/me/passkeys/registration",
        "start_passkey_registration",
    ),
    ("patch", "/api/v1/me/passkeys/{id}", "rename_passkey"),
    ("delete", "/api/v1/me/passkeys/{id}", "remove_passkey"),
    ("post", "/api/v1/recovery", "request_recovery"),
    ("post", "/api/v1/recovery/code", "redeem_recovery_code"),
    ("get", "/api/v1/recovery/{token}", "check_reset_link"),
    (
        "post",
        "/api/v1/recovery/{token}",
        "reset_password_with_link",
    ),
    ("post", "/api/v1/schools", "create_school"),
    ("get", "/api/v1/schools/{id}/credentials.csv", "school_csv"),
    ("get", "/api/v1/schools/{id}/learners", "school_learners"),
    (
        "get",
        "/api/v1/schools/{id}/settings",
        "show_school_settings",
    ),
    (
        "put",
        "/api/v1/schools/{id}/settings",
        "update_school_settings",
    ),
    (
        "post",
        "/api/v1/schools/{school_id}/classes",
        "create_class",
    ),
    (
        "get",
        "/api/v1/schools/{school_id}/password-policy",
        "show_password_policy",
    ),
    (
        "put",
        "/api/v1/schools/{school_id}/password-policy/{kind}",
        "set_password_policy",
    ),
    ("post", "/api/v1/schools/{school_id}/roles", "create_role"),
    (
        "post",
        "/api/v1/schools/{school_id}/roster",
        "import_roster",
    ),
    ("post", "/api/v1/session", "sign_in"),
    (
        "post",
        "/api/v1/session/passkey/start",
        "start_passkey_sign_in",
    ),
    (
        "post",
        "/api/v1/session/passkey/finish",
        "finish_passkey_sign_in",
    ),
    (
        "post",
        "/api/v1/session/mfa/passkey/start",
        "start_sign_in_mfa_passkey",
    ),
    (
        "post",
        "/api/v1/session/mfa/passkey/finish",
        "finish_sign_in_mfa_passkey",
    ),
    ("delete", "/api/v1/session", "sign_out"),
    ("get", "/api/v1/users", "list_users"),
    ("post", "/api/v1/users", "create_user"),
    ("get", "/api/v1/users/{id}", "show_user"),
    (
        "post",
        "/api/v1/users/{id}/access-code",
        "reissue_access_code",
    ),
    ("post", "/api/v1/users/{id}/roles", "grant_role"),
    ("post", "/api/v1/tokens", "create_token"),
    ("get", "/api/v1/tokens", "list_tokens"),
    ("delete", "/api/v1/tokens/{id}", "revoke_token"),
    ("post", "/api/v1/users/{id}/disable", "disable_user"),
    (
        "delete",
        "/api/v1/users/{id}/sso-links/{provider_id}",
        "unlink_sso",
    ),
    ("post", "/api/v1/users/{id}/enable", "enable_user"),
    (
        "post",
        "/api/v1/users/{id}/password-reset",
        "send_password_reset",
    ),
    (
        "post",
        "/api/v1/users/{id}/temporary-password",
        "set_temporary_password",
    ),
    ("post", "/api/v1/users/{id}/mfa-reset", "reset_user_mfa"),
    (
        "post",
        "/api/v1/schools/{id}/sso-providers",
        "add_sso_provider",
    ),
    (
        "get",
        "/api/v1/schools/{id}/sso-providers",
        "list_sso_providers",
    ),
    (
        "delete",
        "/api/v1/schools/{id}/sso-providers/{provider_id}",
        "remove_sso_provider",
    ),
    ("get", "/api/v1/sso/providers", "sign_in_choices"),
];

/// Calls through an API token: every operation that takes a session either
/// also takes `bearer_token` (and documents the token's 401 answers) or
/// documents `token_not_allowed`; the calls on one's own account and tokens
/// never take a token.
#[test]
fn bearer_tokens_are_documented_where_they_are_accepted() {
    let doc = serde_json::to_value(keyward_web::openapi_document()).expect("document");
    assert!(doc["components"]["securitySchemes"]["bearer_token"].is_object());
    let mut bearer = 0;
    for (method, path, operation) in operations(&doc) {
        if !takes_session(&operation) {
            continue;
        }
        let takes_token = requirements(&operation)
            .iter()
            .any(|req| req.contains("bearer_token"));
        let text = serde_json::to_string(&operation["responses"]).unwrap();
        if takes_token {
            bearer += 1;
            assert!(text.contains("token_revoked"), "{method} {path}");
            assert!(
                !path.starts_with("/api/v1/me") && !path.starts_with("/api/v1/tokens"),
                "{method} {path} takes a token"
            );
        } else {
            assert!(text.contains("token_not_allowed"), "{method} {path}");
        }
    }
    assert!(bearer >= 20, "only {bearer} operations take a token");
}

#[test]
fn operation_ids_are_unique_and_pinned() {
    let doc = document();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut actual = BTreeSet::new();
    for (method, path, operation) in operations(&doc) {
        let id = operation["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
            .to_owned();
        let here = format!("{} {path}", method.to_uppercase());
        if let Some(first) = seen.insert(id.clone(), here.clone()) {
            panic!("operationId `{id}` is used by {first} and {here}");
        }
        actual.insert((method, path, id));
    }
    let pinned: BTreeSet<(String, String, String)> = OPERATION_IDS
        .iter()
        .map(|(m, p, id)| ((*m).to_owned(), (*p).to_owned(), (*id).to_owned()))
        .collect();
    assert_eq!(
        actual, pinned,
        "the operations or their ids changed; if on purpose, update OPERATION_IDS"
    );
}

#[test]
fn state_changing_cookie_operations_declare_the_csrf_header() {
    let doc = document();
    for (method, path, operation) in operations(&doc) {
        if !changes_state(&method) {
            continue;
        }
        for requirement in requirements(&operation) {
            assert!(
                !requirement.contains("session_cookie") || requirement.contains("csrf_header"),
                "{method} {path} takes the session cookie but does not declare csrf_header"
            );
        }
    }
}

#[test]
fn session_operations_document_401_and_their_csrf_403() {
    let doc = document();
    for (method, path, operation) in operations(&doc) {
        if !takes_session(&operation) {
            continue;
        }
        let answers = answers(&operation);
        let unauthenticated = answers
            .get("401")
            .unwrap_or_else(|| panic!("{method} {path} takes a session but does not document 401"));
        assert!(
            unauthenticated["description"]
                .as_str()
                .unwrap_or("")
                .contains("`unauthenticated`"),
            "{method} {path}: 401 does not name `unauthenticated`"
        );
        if changes_state(&method) {
            let forbidden = answers
                .get("403")
                .unwrap_or_else(|| panic!("{method} {path} does not document 403 csrf_failed"));
            assert!(
                forbidden["description"]
                    .as_str()
                    .unwrap_or("")
                    .contains("`csrf_failed`"),
                "{method} {path}: 403 does not name `csrf_failed`"
            );
        }
    }
}

#[test]
fn json_body_operations_document_what_the_body_extractor_answers() {
    let doc = document();
    for (method, path, operation) in operations(&doc) {
        if !has_json_body(&operation) {
            continue;
        }
        let answers = answers(&operation);
        for (status, code) in [
            ("400", "invalid_json"),
            ("413", "payload_too_large"),
            ("415", "unsupported_media_type"),
            ("422", "invalid_request"),
        ] {
            let answer = answers
                .get(status)
                .unwrap_or_else(|| panic!("{method} {path} has a JSON body but no {status}"));
            assert!(
                answer["description"]
                    .as_str()
                    .unwrap_or("")
                    .contains(&format!("`{code}`")),
                "{method} {path}: {status} does not name `{code}`"
            );
        }
    }
}

#[test]
fn every_operation_documents_503_with_retry_after() {
    let doc = document();
    for (method, path, operation) in operations(&doc) {
        let answers = answers(&operation);
        let unavailable = answers
            .get("503")
            .unwrap_or_else(|| panic!("{method} {path} does not document 503"));
        for status in ["429", "503"] {
            if let Some(answer) = answers.get(status) {
                assert!(
                    answer["headers"]["Retry-After"].is_object(),
                    "{method} {path}: {status} without Retry-After"
                );
            }
        }
        assert!(
            unavailable["description"]
                .as_str()
                .unwrap_or("")
                .contains("`database_unavailable`"),
            "{method} {path}: 503 does not name `database_unavailable`"
        );
    }
}

#[test]
fn every_error_answer_has_the_error_body() {
    let doc = document();
    for (method, path, operation) in operations(&doc) {
        for (status, answer) in answers(&operation) {
            if !status.starts_with('4') && !status.starts_with('5') {
                continue;
            }
            let schema = answer["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap_or("");
            assert!(
                matches!(
                    schema,
                    "#/components/schemas/ErrorBody" | "#/components/schemas/RosterInvalidBody"
                ),
                "{method} {path}: {status} has no ErrorBody ({schema:?})"
            );
        }
    }
    let roster_invalid = &doc["components"]["schemas"]["RosterInvalidBody"]["required"];
    for field in ["error", "message", "request_id"] {
        assert!(
            roster_invalid
                .as_array()
                .is_some_and(|r| r.contains(&Value::from(field))),
            "RosterInvalidBody lacks the ErrorBody field {field}"
        );
    }
}

/// Codes the server answers that `keyward_core::error::Code` lacks so far:
/// the web crate writes them itself. Each must still be a string in
/// keyward-web and still be missing from the list (checked below), so this
/// shrinks to nothing once the list has them.
const CODES_MISSING_FROM_THE_LIST: &[&str] = &[];

/// Words a description puts in backticks that are not error codes: fields of
/// an error body and their values.
const DETAIL_WORDS: &[&str] = &[
    "violations",
    "field",
    "password_status",
    "private",
    "not_kept",
    "pending",
];

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn the_codes_missing_from_the_list_are_still_missing_and_still_answered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut literals = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        literals.extend(text.split('"').skip(1).step_by(2).map(str::to_owned));
    }
    for code in CODES_MISSING_FROM_THE_LIST {
        assert!(
            Code::parse(code).is_none(),
            "`{code}` is in keyward_core::error::Code now: remove it from CODES_MISSING_FROM_THE_LIST"
        );
        assert!(
            literals.contains(*code),
            "`{code}` is no longer a string in keyward-web: remove it from CODES_MISSING_FROM_THE_LIST"
        );
    }
}

/// The words in backticks of `text`.
fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

#[test]
fn every_error_code_the_document_names_is_in_the_list() {
    let doc = document();
    let mut named: Vec<(String, String)> = Vec::new();
    for (method, path, operation) in operations(&doc) {
        for (status, answer) in answers(&operation) {
            if status.starts_with('4') || status.starts_with('5') {
                let description = answer["description"].as_str().unwrap_or("");
                for word in backticked(description) {
                    named.push((format!("{method} {path} {status}"), word.to_owned()));
                }
            }
        }
    }
    let error_field = &doc["components"]["schemas"]["ErrorBody"]["properties"]["error"];
    for word in backticked(error_field["description"].as_str().unwrap_or("")) {
        named.push(("ErrorBody.error".to_owned(), word.to_owned()));
    }
    assert!(named.len() > 100, "only {} codes named", named.len());
    for (place, word) in named {
        if DETAIL_WORDS.contains(&word.as_str())
            || CODES_MISSING_FROM_THE_LIST.contains(&word.as_str())
        {
            continue;
        }
        let candidates: Vec<Code> = match word.strip_suffix('*') {
            // `username_*`: a family of codes, of which there must be one.
            Some(prefix) => Code::ALL
                .iter()
                .copied()
                .filter(|code| code.as_str().starts_with(prefix))
                .collect(),
            None => Code::parse(&word).into_iter().collect(),
        };
        assert!(
            !candidates.is_empty(),
            "{place} names `{word}`, which is not in keyward_core::error::Code"
        );
        // Under the status the server gives the code (the one status table).
        let status = place.rsplit(' ').next().unwrap_or("");
        if place != "ErrorBody.error" {
            assert!(
                candidates
                    .iter()
                    .any(|code| status_of(code.kind()).as_str() == status),
                "{place} names `{word}`, which the server answers with another status"
            );
        }
    }
}

fn schema<'d>(doc: &'d Value, name: &str) -> &'d Value {
    let schema = &doc["components"]["schemas"][name];
    assert!(schema.is_object(), "no schema {name}");
    schema
}

fn enum_of(doc: &Value, schema: &Value) -> Vec<String> {
    let target = match schema["$ref"].as_str() {
        Some(reference) => {
            &doc["components"]["schemas"][reference.rsplit('/').next().unwrap_or("")]
        }
        None => schema,
    };
    target["enum"]
        .as_array()
        .map(|values| {
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn mode_fields_name_their_modes() {
    let doc = document();
    let learner = &schema(&doc, "NewLearnerPassword")["properties"]["mode"];
    assert_eq!(enum_of(&doc, learner), ["generate", "set"]);
    let class = schema(&doc, "ClassResetRequest");
    assert_eq!(
        enum_of(&doc, &class["properties"]["mode"]),
        ["same", "individual"]
    );
    assert!(
        class["required"]
            .as_array()
            .is_some_and(|r| r.contains(&Value::from("mode"))),
        "the class reset's mode is required (without it: 422 invalid_mode)"
    );
    let answer = &schema(&doc, "ClassResetAnswer")["properties"]["mode"];
    assert_eq!(enum_of(&doc, answer), ["same", "individual"]);
}

#[test]
fn a_recovery_request_needs_a_username_or_an_email() {
    let doc = document();
    let request = schema(&doc, "RecoveryRequest");
    let required: BTreeSet<&str> = request["anyOf"]
        .as_array()
        .expect("anyOf")
        .iter()
        .filter_map(|branch| branch["required"].as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, BTreeSet::from(["username", "email"]));
}

#[test]
fn the_rules_bounds_are_the_ones_the_server_enforces() {
    use keyward_core::policy::PasswordPolicy;
    use keyward_core::settings::PolicyPreset;

    let doc = document();
    let rules = &schema(&doc, "Rules")["properties"];
    for field in ["min_length", "max_length"] {
        let low = rules[field]["minimum"].as_u64().expect("a minimum") as usize;
        let high = rules[field]["maximum"].as_u64().expect("a maximum") as usize;
        let with = |value: usize| {
            let mut policy = PasswordPolicy::preset(PolicyPreset::Nist);
            if field == "min_length" {
                policy.min_length = value;
            } else {
                policy.max_length = value;
            }
            policy.validate().is_ok()
        };
        assert!(
            with(low) && with(high),
            "{field}: {low} and {high} are refused"
        );
        assert!(
            !with(low - 1) && !with(high + 1),
            "{field}: the server accepts more than {low}..={high}"
        );
    }
}

/// Every `$ref` string anywhere under `value`.
fn references<'v>(value: &'v Value, found: &mut Vec<&'v str>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => found.push(target),
                    _ => references(inner, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let mut found = Vec::new();
    references(&doc, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a reference outside the schemas: {target}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{target} does not resolve"
        );
    }
}

#[test]
fn the_sso_claim_enum_is_the_cores() {
    use keyward_core::sso::IdentityClaim;

    let doc = document();
    let claims: Vec<&str> = IdentityClaim::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(enum_of(&doc, schema(&doc, "ClaimName")), claims);
    let request = &schema(&doc, "NewSsoProviderRequest")["properties"];
    assert!(
        request["client_secret"].is_object() && request["claim"].is_object(),
        "{request}"
    );
    let listed = &schema(&doc, "SsoProviderBody")["properties"];
    assert!(listed["redirect_uri"].is_object());
    assert!(
        listed.get("client_secret").is_none(),
        "a listed provider never carries its secret"
    );
}

#[test]
fn role_and_status_enums_are_the_core_ones() {
    use keyward_core::accounts::AccountStatus;
    use keyward_core::types::Role;

    let doc = document();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    assert_eq!(enum_of(&doc, schema(&doc, "RoleName")), roles);
    // A school's two-step rule and its sign-on providers name the roles of a
    // school's people only (the server answers 422 to `platform_admin` there).
    let school_roles: Vec<&str> = roles
        .iter()
        .copied()
        .filter(|role| *role != Role::PlatformAdmin.as_str())
        .collect();
    assert_eq!(enum_of(&doc, schema(&doc, "SchoolRoleName")), school_roles);
    let school_role = Value::from("#/components/schemas/SchoolRoleName");
    assert_eq!(
        schema(&doc, "SchoolMfaRule")["properties"]["required_roles"]["items"]["$ref"],
        school_role
    );
    for (name, field) in [
        ("NewSsoProviderRequest", "roles"),
        ("NewSsoProviderRequest", "jit_roles"),
        ("SsoProviderBody", "roles"),
        ("SsoProviderBody", "jit_roles"),
    ] {
        assert_eq!(
            schema(&doc, name)["properties"][field]["items"]["$ref"],
            school_role,
            "{name}.{field}"
        );
    }
    let statuses = enum_of(&doc, schema(&doc, "AccountStatusName"));
    assert_eq!(statuses, ["pending", "active", "disabled"]);
    for status in &statuses {
        let parsed = AccountStatus::parse(status).map(AccountStatus::as_str);
        assert_eq!(parsed, Some(status.as_str()));
    }
}

/// The names in the description of `operation`'s answer with `status`.
fn codes_under<'o>(operation: &'o Value, status: &str) -> Vec<&'o str> {
    backticked(
        operation["responses"][status]["description"]
            .as_str()
            .unwrap_or(""),
    )
}

/// A person held at a temporary password or at two-step enrolment gets 403
/// from every call but the few that lead out of the hold (scripts/api-fuzz
/// met `mfa_enrolment_required` where the document did not say so): each
/// operation documents the holds that can stop it, and only those.
#[test]
fn the_holds_are_documented_where_they_stop_a_call() {
    let doc = document();
    let find = |method: &str, path: &str| {
        operations(&doc)
            .into_iter()
            .find(|(m, p, _)| m == method && p == path)
            .map(|(_, _, operation)| operation)
            .unwrap_or_else(|| panic!("no {method} {path}"))
    };
    for (method, path, password, enrolment) in [
        ("get", "/api/v1/users", true, true),
        ("get", "/api/v1/schools/{id}/mfa", true, true),
        ("get", "/api/v1/recovery/{token}", true, true),
        ("post", "/api/v1/join", true, true),
        ("post", "/api/v1/me/password", false, true),
        ("post", "/api/v1/me/mfa/totp", true, false),
        ("get", "/api/v1/me", false, false),
        ("post", "/api/v1/session", false, false),
        ("delete", "/api/v1/session", false, false),
    ] {
        let operation = find(method, path);
        let codes = codes_under(&operation, "403");
        assert_eq!(
            codes.contains(&"password_change_required"),
            password,
            "{method} {path}: 403 {codes:?}"
        );
        assert_eq!(
            codes.contains(&"mfa_enrolment_required"),
            enrolment,
            "{method} {path}: 403 {codes:?}"
        );
    }
}

/// The path parameters of `operation`, by name.
fn path_parameters(operation: &Value) -> BTreeSet<String> {
    operation["parameters"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The links between operations (a create followed by the calls on what it
/// made) name operations that exist, parameters those operations take, and
/// fields of the body they read; the stateful phase of scripts/api-fuzz
/// follows them.
#[test]
fn links_lead_to_real_operations_and_parameters() {
    let doc = document();
    let all = operations(&doc);
    let by_id: BTreeMap<&str, &Value> = all
        .iter()
        .filter_map(|(_, _, op)| op["operationId"].as_str().map(|id| (id, op)))
        .collect();
    let mut count = 0;
    for (method, path, operation) in &all {
        for (status, answer) in answers(operation) {
            let Some(links) = answer["links"].as_object() else {
                continue;
            };
            for (name, link) in links {
                count += 1;
                let place = format!("{method} {path} {status} link {name}");
                let target_id = link["operationId"].as_str().expect("an operationId");
                let target = by_id
                    .get(target_id)
                    .unwrap_or_else(|| panic!("{place}: no operation {target_id}"));
                for (parameter, expression) in link["parameters"].as_object().into_iter().flatten()
                {
                    let wanted = parameter.strip_prefix("path.").expect("a path parameter");
                    assert!(
                        path_parameters(target).contains(wanted),
                        "{place}: {target_id} takes no path parameter {wanted}"
                    );
                    let expression = expression.as_str().expect("an expression");
                    if let Some(own) = expression.strip_prefix("$request.path.") {
                        assert!(
                            path_parameters(operation).contains(own),
                            "{place}: no path parameter {own} here"
                        );
                    } else {
                        assert!(
                            expression.starts_with("$response.body#/"),
                            "{place}: {expression}"
                        );
                    }
                }
                if let Some(body) = link["requestBody"].as_object() {
                    let schema =
                        target["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                            .as_str()
                            .and_then(|r| r.rsplit('/').next())
                            .unwrap_or_else(|| panic!("{place}: {target_id} takes no JSON body"));
                    let fields = &doc["components"]["schemas"][schema]["properties"];
                    for field in body.keys() {
                        assert!(
                            fields[field].is_object(),
                            "{place}: {schema} has no {field}"
                        );
                    }
                }
            }
        }
    }
    assert!(count >= 20, "only {count} links");
}
