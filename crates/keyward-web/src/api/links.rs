//! OpenAPI links: where one operation's answer gives what another takes — a
//! new user's id and access code, a new class's id, a new role's id for a
//! grant, a new provider's id with its school's — so a client (and the
//! stateful phase of `scripts/api-fuzz`'s schemathesis) can follow a create
//! with the calls on what it made. Written in one table, added to the
//! document after the routes; a link names its target by operation id, and
//! the contract test checks that every link's source, target and parameters
//! exist.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, RefOr};

/// One link: from `from`'s answer with `status` to `to`, with `parameters`
/// (`location.name` → runtime expression) and body fields (name → runtime
/// expression) merged into the body the client sends.
struct Link {
    from: &'static str,
    status: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    body: &'static [(&'static str, &'static str)],
}

const NEW_ID: &[(&str, &str)] = &[("path.id", "$response.body#/id")];
const SAME_ID: &[(&str, &str)] = &[("path.id", "$request.path.id")];
const NEW_SCHOOL: &[(&str, &str)] = &[("path.school_id", "$response.body#/id")];

const fn link(from: &'static str, status: &'static str, to: &'static str) -> Link {
    Link {
        from,
        status,
        to,
        parameters: NEW_ID,
        body: &[],
    }
}

const LINKS: &[Link] = &[
    // A new pending user: show it, give a new code, use the code.
    link("create_user", "201", "show_user"),
    link("create_user", "201", "reissue_access_code"),
    link("create_user", "201", "disable_user"),
    Link {
        parameters: &[],
        body: &[("code", "$response.body#/access_code")],
        ..link("create_user", "201", "activate")
    },
    Link {
        parameters: &[],
        body: &[("code", "$response.body#/access_code")],
        ..link("reissue_access_code", "200", "activate")
    },
    link("disable_user", "200", "enable_user"),
    link("enable_user", "200", "disable_user"),
    // A new class: its learners, code, export and resets.
    link("create_class", "201", "class_learners"),
    link("create_class", "201", "show_class_code"),
    link("create_class", "201", "change_class_code"),
    link("create_class", "201", "class_csv"),
    link("create_class", "201", "reset_class_passwords"),
    Link {
        parameters: &[],
        body: &[("class_code", "$response.body#/class_code")],
        ..link("show_class_code", "200", "join")
    },
    Link {
        parameters: &[],
        body: &[("class_code", "$response.body#/class_code")],
        ..link("change_class_code", "200", "join")
    },
    // A learner's new password can be shown again.
    Link {
        parameters: SAME_ID,
        ..link("reset_learner_password", "200", "reveal_learner_password")
    },
    // A new school: its settings, rules, classes, roles and roster.
    link("create_school", "201", "show_school_settings"),
    link("create_school", "201", "show_school_mfa_rule"),
    link("create_school", "201", "school_learners"),
    link("create_school", "201", "list_sso_providers"),
    Link {
        parameters: NEW_SCHOOL,
        ..link("create_school", "201", "create_class")
    },
    Link {
        parameters: NEW_SCHOOL,
        ..link("create_school", "201", "show_password_policy")
    },
    Link {
        parameters: NEW_SCHOOL,
        ..link("create_school", "201", "create_role")
    },
    // A new role, granted.
    Link {
        parameters: &[],
        body: &[("role_id", "$response.body#/id")],
        ..link("create_role", "201", "grant_role")
    },
    // A new provider, removed from its school.
    Link {
        parameters: &[
            ("path.id", "$request.path.id"),
            ("path.provider_id", "$response.body#/id"),
        ],
        ..link("add_sso_provider", "201", "remove_sso_provider")
    },
    // A new token, revoked.
    link("create_token", "201", "revoke_token"),
];

/// Adds the links of [`LINKS`] to `doc`'s answers.
pub(super) fn add_links(doc: &mut OpenApi) {
    for link in LINKS {
        let Some(operation) = find(doc, link.from) else {
            continue;
        };
        let Some(RefOr::T(answer)) = operation.responses.responses.get_mut(link.status) else {
            continue;
        };
        let mut builder = LinkBuilder::new().operation_id(link.to);
        for (name, expression) in link.parameters {
            builder = builder.parameter(*name, *expression);
        }
        if !link.body.is_empty() {
            let body: serde_json::Map<String, serde_json::Value> = link
                .body
                .iter()
                .map(|(name, expression)| ((*name).to_owned(), (*expression).into()))
                .collect();
            builder = builder.request_body(Some(serde_json::Value::Object(body)));
        }
        answer
            .links
            .insert(link.to.to_owned(), RefOr::T(builder.build()));
    }
}

/// The operation of `doc` with the id `id`.
fn find<'d>(doc: &'d mut OpenApi, id: &str) -> Option<&'d mut Operation> {
    doc.paths.paths.values_mut().find_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        .find(|operation| operation.operation_id.as_deref() == Some(id))
    })
}
