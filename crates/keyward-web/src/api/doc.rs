//! The answers every operation shares, written into the OpenAPI document in
//! one place. What an operation's extractors and the middleware around it can
//! answer follows from the operation itself: its session security (401
//! `unauthenticated`; 403 `csrf_failed` when it changes something; 403
//! `token_not_allowed` when it takes no API token), its bearer security (401
//! `token_invalid`, `token_expired`, `token_revoked`), its
//! method (403 `foreign_origin` from the Origin check), its request body (400,
//! 413, 415 and, for JSON, 422 `invalid_request`), its path (403
//! `password_change_required` and `mfa_enrolment_required` from the hold of
//! `enrolment_gate`, wherever that hold does not leave the path open: for a
//! session cookie sent with the call, even where the operation needs none,
//! and for an API token's owner) — and every operation can meet a database
//! that does not answer, a database whose disk is full, or the request
//! timeout (503 with `Retry-After`). [`add_shared_answers`] adds them to each operation, or adds
//! their codes to the description of an answer the operation already
//! documents; what only one operation answers stays on its `#[utoipa::path]`.
//! The codes are the one list's (`keyward_core::error::Code`) and their
//! statuses the one status table's (`status_of`); every error answer's body
//! is the one `ErrorBody` schema.

use axum::http::Method;
use keyward_core::error::Code;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, Header, OpenApi, Ref, RefOr, Response};

use crate::enrolment_gate::{open_while_changing_password, open_while_enrolling};
use crate::error::status_of;

/// The security scheme of the session cookie (see `SecuritySchemes`).
pub(super) const SESSION_SCHEME: &str = "session_cookie";
/// The security scheme of API tokens (`Authorization: Bearer kw_…`).
pub(super) const BEARER_SCHEME: &str = "bearer_token";

/// One code an operation can be answered with, for a reason it shares with
/// others; its status is the one the server gives the code's kind.
struct Shared {
    code: Code,
    why: &'static str,
}

impl Shared {
    fn status(&self) -> String {
        status_of(self.code.kind()).as_u16().to_string()
    }
}

const UNAUTHENTICATED: Shared = Shared {
    code: Code::Unauthenticated,
    why: "no session cookie, or its session has ended",
};
const CSRF_FAILED: Shared = Shared {
    code: Code::CsrfFailed,
    why: "the X-CSRF-Token header is missing or not the session's",
};
const TOKEN_INVALID: Shared = Shared {
    code: Code::TokenInvalid,
    why: "the bearer token is malformed or unknown, or its owner can no longer sign in",
};
const TOKEN_EXPIRED: Shared = Shared {
    code: Code::TokenExpired,
    why: "the bearer token has expired",
};
const TOKEN_REVOKED: Shared = Shared {
    code: Code::TokenRevoked,
    why: "the bearer token was revoked",
};
const TOKEN_NOT_ALLOWED: Shared = Shared {
    code: Code::TokenNotAllowed,
    why: "called with an API token; this call needs a session",
};
const PASSWORD_CHANGE_REQUIRED: Shared = Shared {
    code: Code::PasswordChangeRequired,
    why: "the session's person (or the token's owner) signed in with a temporary password and must choose their own first (POST /api/v1/me/password)",
};
const MFA_ENROLMENT_REQUIRED: Shared = Shared {
    code: Code::MfaEnrolmentRequired,
    why: "the session's person (or the token's owner) must turn on two-step verification first",
};
const FOREIGN_ORIGIN: Shared = Shared {
    code: Code::ForeignOrigin,
    why: "a browser sent it from another site (Origin, Sec-Fetch-Site)",
};
const INVALID_JSON: Shared = Shared {
    code: Code::InvalidJson,
    why: "the body is not JSON",
};
const INVALID_BODY: Shared = Shared {
    code: Code::InvalidBody,
    why: "the body could not be read",
};
const PAYLOAD_TOO_LARGE: Shared = Shared {
    code: Code::PayloadTooLarge,
    why: "the body is larger than the server accepts",
};
const UNSUPPORTED_MEDIA_TYPE: Shared = Shared {
    code: Code::UnsupportedMediaType,
    why: "the Content-Type is not the one documented for the body",
};
const INVALID_REQUEST: Shared = Shared {
    code: Code::InvalidRequest,
    why: "a field is missing or has the wrong type",
};
const DATABASE_UNAVAILABLE: Shared = Shared {
    code: Code::DatabaseUnavailable,
    why: "the database does not answer",
};
const STORAGE_FULL: Shared = Shared {
    code: Code::StorageFull,
    why: "the database's disk is full: nothing can be saved until space is freed",
};
const UNAVAILABLE: Shared = Shared {
    code: Code::Unavailable,
    why: "no answer within the request timeout",
};

/// What decides an operation's shared answers.
struct Facts {
    session: bool,
    /// An API token may call it.
    bearer: bool,
    changes: bool,
    json_body: bool,
    other_body: bool,
    /// Closed to a session (or token owner) held at a temporary password.
    held_at_password: bool,
    /// Closed to a session (or token owner) held at two-step enrolment.
    held_at_enrolment: bool,
}

impl Facts {
    fn of(method: &str, path: &str, operation: &Operation) -> Facts {
        let names = |scheme: &str| {
            operation.security.iter().flatten().any(|requirement| {
                serde_json::to_value(requirement)
                    .ok()
                    .and_then(|value| value.get(scheme).map(|_| ()))
                    .is_some()
            })
        };
        let session = names(SESSION_SCHEME);
        let bearer = names(BEARER_SCHEME);
        let body_types: Vec<&String> = match &operation.request_body {
            Some(RefOr::T(body)) => body.content.keys().collect(),
            _ => Vec::new(),
        };
        let json_body = body_types.iter().any(|t| *t == "application/json");
        let http_method =
            Method::from_bytes(method.to_uppercase().as_bytes()).unwrap_or(Method::GET);
        Facts {
            session,
            bearer,
            changes: !matches!(method, "get" | "head" | "options"),
            json_body,
            other_body: !json_body && !body_types.is_empty(),
            held_at_password: bearer || !open_while_changing_password(&http_method, path),
            held_at_enrolment: bearer || !open_while_enrolling(&http_method, path),
        }
    }

    /// The shared answers, in the order their codes are listed.
    fn answers(&self) -> Vec<&'static Shared> {
        let mut answers = Vec::new();
        if self.session {
            answers.push(&UNAUTHENTICATED);
        }
        if self.bearer {
            answers.extend([&TOKEN_INVALID, &TOKEN_EXPIRED, &TOKEN_REVOKED]);
        }
        if self.session && self.changes {
            answers.push(&CSRF_FAILED);
        }
        if self.session && !self.bearer {
            answers.push(&TOKEN_NOT_ALLOWED);
        }
        if self.held_at_password {
            answers.push(&PASSWORD_CHANGE_REQUIRED);
        }
        if self.held_at_enrolment {
            answers.push(&MFA_ENROLMENT_REQUIRED);
        }
        if self.changes {
            answers.push(&FOREIGN_ORIGIN);
        }
        if self.json_body {
            answers.extend([
                &INVALID_JSON,
                &INVALID_BODY,
                &PAYLOAD_TOO_LARGE,
                &UNSUPPORTED_MEDIA_TYPE,
                &INVALID_REQUEST,
            ]);
        }
        if self.other_body {
            answers.extend([&INVALID_BODY, &PAYLOAD_TOO_LARGE, &UNSUPPORTED_MEDIA_TYPE]);
        }
        answers.extend([&DATABASE_UNAVAILABLE, &STORAGE_FULL, &UNAVAILABLE]);
        answers
    }
}

/// Adds to every operation of `doc` the answers it shares with others.
pub(super) fn add_shared_answers(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                let facts = Facts::of(method, path, operation);
                for shared in facts.answers() {
                    add(operation, shared);
                }
                for (status, answer) in operation.responses.responses.iter_mut() {
                    if let (RefOr::T(answer), "429" | "503") = (answer, status.as_str()) {
                        answer
                            .headers
                            .entry("Retry-After".to_owned())
                            .or_insert_with(|| RefOr::T(retry_after()));
                    }
                }
            }
        }
    }
}

/// Documents `shared` on `operation`: a new answer, or its code added to the
/// description of the answer with that status.
fn add(operation: &mut Operation, shared: &Shared) {
    let code = shared.code.as_str();
    let line = format!("`{code}`: {}", shared.why);
    let status = shared.status();
    let answers = &mut operation.responses.responses;
    match answers.get_mut(&status) {
        Some(RefOr::T(answer)) => {
            if !answer.description.contains(&format!("`{code}`")) {
                answer.description = format!("{}; {line}", answer.description);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let mut answer = Response::new(line);
            answer.content.insert(
                "application/json".to_owned(),
                RefOr::T(Content::new(Some(Ref::from_schema_name("ErrorBody")))),
            );
            answers.insert(status, RefOr::T(answer));
        }
    }
}

/// The `Retry-After` header of every 429 and 503 answer.
fn retry_after() -> Header {
    let mut header = Header::new(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0)),
    );
    header.description = Some("Seconds to wait before trying again.".to_owned());
    header
}
