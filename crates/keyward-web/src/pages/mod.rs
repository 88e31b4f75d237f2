//! Server-rendered pages (R-UI-1): askama templates extending one layout,
//! usable without JavaScript, with the seeds' labels. Each page handler
//! extracts, calls one use case, and renders.

mod account;
mod account_email;
mod account_language;
mod account_sessions;
mod account_tokens;
mod activate;
mod audit;
mod children;
mod class_code;
mod class_lists;
mod class_reset;
mod credentials;
mod dev_mail;
mod field_errors;
mod home;
mod join;
mod learner_password;
mod login_cards;
mod mfa;
mod passkeys;
mod people;
mod recovery;
mod roster;
mod school;
mod school_settings;
mod second_step;
mod signin;
mod sso;
mod sso_choices;
mod sso_links;
mod sso_providers;
mod trail;
mod user_admin;
mod user_status;
mod users_list;

use askama::Template;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use keyward_core::error::{Code, CodedError};

use crate::error::{AppError, set_retry_after};
use crate::extract::Visitor;
use crate::shared::limits::ROSTER_BODY_LIMIT_BYTES;
use crate::state::AppState;

/// What the layout needs to show the navigation menu of a signed-in person.
#[derive(Clone)]
pub struct Nav {
    pub username: String,
    pub display_name: String,
    pub role_label: &'static str,
    /// The role's name in the page's language (a message id).
    pub role_message: &'static str,
    pub csrf_token: String,
    /// The menu, Home first and Account Settings last.
    pub links: Vec<MenuLink>,
    /// The person's school, named at the top of every page.
    pub school_name: Option<String>,
}

/// One entry of the menu, and whether it is the page shown (`aria-current`:
/// `page` on the page itself, `true` on a page inside its section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuLink {
    pub href: &'static str,
    /// The message id of the link's label.
    pub label: &'static str,
    pub current: Option<&'static str>,
}

impl MenuLink {
    fn at(href: &'static str, label: &'static str, path: &str) -> MenuLink {
        let inside = href != "/home"
            && path
                .strip_prefix(href)
                .is_some_and(|rest| rest.starts_with('/'));
        let current = if path == href {
            Some("page")
        } else if inside {
            Some("true")
        } else {
            None
        };
        MenuLink {
            href,
            label,
            current,
        }
    }
}

impl std::fmt::Debug for Nav {
    // The CSRF token never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nav")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("role_label", &self.role_label)
            .field("csrf_token", &keyward_core::types::REDACTED)
            .field("links", &self.links)
            .field("school_name", &self.school_name)
            .finish()
    }
}

impl Nav {
    pub fn of(visitor: &Visitor) -> Option<Nav> {
        let session = visitor.session.as_ref()?;
        let actor = visitor.menu.as_ref()?;
        Some(Nav::of_session(
            session,
            actor,
            visitor.school_name.clone(),
            &visitor.path,
        ))
    }

    /// The menu of a live session (also used by error pages): `actor` is
    /// the session's (`Keyward::menu_actor`), `path` the page shown.
    pub fn of_session(
        s: &keyward_core::accounts::CurrentSession,
        actor: &keyward_core::authz::Actor,
        school_name: Option<String>,
        path: &str,
    ) -> Nav {
        Nav {
            school_name,
            username: s.account.username.to_string(),
            display_name: s.account.display_name(),
            role_label: s.account.role.label(),
            role_message: role_message(s.account.role),
            csrf_token: s.csrf_token.clone(),
            links: menu_links(actor)
                .into_iter()
                .map(|(href, label)| MenuLink::at(href, label, path))
                .collect(),
        }
    }
}

/// The menu of an actor, in the seeds' words (message ids: `menu-…` and
/// `frame-…` in `locales/*/frame.ftl`): what their role and custom
/// roles let them open (a custom role's `users.view` brings **Users**).
/// Pages that belong to one school (the class database, subscription
/// management) are offered only to people of a school.
fn menu_links(actor: &keyward_core::authz::Actor) -> Vec<(&'static str, &'static str)> {
    use keyward_core::authz::{Permission, PermissionSet};
    use keyward_core::types::Role;
    let held = actor.permissions();
    let in_school = actor.school_id.is_some();
    let school_wide = |p| actor.holds_school_wide(PermissionSet::of(&[p]));
    let offered = [
        (
            in_school && held.contains(Permission::LearnersView),
            "/classes",
            "menu-class-database",
        ),
        (
            in_school && school_wide(Permission::LearnersView),
            "/school",
            "menu-subscription-management",
        ),
        (held.contains(Permission::UsersView), "/users", "menu-users"),
        (
            actor.role == Role::Parent,
            "/children",
            "menu-your-children",
        ),
        (
            held.contains(Permission::AuditView),
            "/audit",
            "menu-audit-log",
        ),
    ];
    std::iter::once(("/home", "frame-home"))
        .chain(
            offered
                .into_iter()
                .filter(|(shown, _, _)| *shown)
                .map(|(_, href, label)| (href, label)),
        )
        .chain(std::iter::once(("/account", "frame-account-settings")))
        .collect()
}

/// The message id of a role's name, shown under the person's name in the menu.
pub(super) fn role_message(role: keyward_core::types::Role) -> &'static str {
    use keyward_core::types::Role;
    match role {
        Role::PlatformAdmin => "role-platform-admin",
        Role::LeadTeacher => "role-lead-teacher",
        Role::Teacher => "role-teacher",
        Role::Learner => "role-learner",
        Role::Parent => "role-parent",
    }
}

/// Where to go after signing in, when a page sent the person to sign in
/// first. Only a few of our own pages are accepted, so the parameter can
/// never send anyone to another site.
pub fn safe_next(next: &str) -> Option<&'static str> {
    const RETURNABLE: [&str; 17] = [
        "/account",
        "/account/language",
        "/account/password",
        "/account/email",
        "/account/mfa",
        "/account/sessions",
        "/account/passkeys",
        "/account/tokens",
        "/home",
        "/classes",
        "/school",
        "/school/students",
        "/school/accounts",
        "/users",
        "/users/new",
        "/children",
        "/audit",
    ];
    RETURNABLE.into_iter().find(|allowed| *allowed == next)
}

/// A refusal of the core in the page's language: the message
/// `error-<code>` where the language has one, else the core's own words.
/// The core speaks English (its messages are the API's too); a language
/// translates a code only where the core's words for it never vary.
pub fn words(err: &impl CodedError) -> String {
    words_for(err.code(), err)
}

/// [`words`] for an error that carries its code without being a `CodedError`.
pub fn words_for(code: Code, english: &impl std::fmt::Display) -> String {
    let locale = keyward_core::i18n::current();
    let id = format!("error-{}", code.as_str());
    if locale != keyward_core::i18n::Locale::En && keyward_core::i18n::has(locale, &id) {
        keyward_core::i18n::text_in(locale, &id)
    } else {
        english.to_string()
    }
}

/// Renders a template with a status; a template error is an internal error.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "template failed to render");
            AppError::new(Code::Internal, "The page could not be shown.").into_response()
        }
    }
}

/// What a form page tells after it was sent: the answer's status, the wait
/// to announce (`Retry-After`), the problems in words, and a notice (a
/// message id, which the template says with `t(…)`).
pub struct Told {
    pub status: StatusCode,
    pub retry_after: Option<u64>,
    pub errors: Vec<String>,
    pub notice: Option<&'static str>,
}

impl Told {
    /// Done, saying so: `notice` is a message id.
    pub fn done(notice: &'static str) -> Told {
        Told {
            status: StatusCode::OK,
            retry_after: None,
            errors: Vec::new(),
            notice: Some(notice),
        }
    }

    /// Refused with these problems (broken rules, one by one): 422.
    pub fn invalid(errors: Vec<String>) -> Told {
        Told {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            retry_after: None,
            errors,
            notice: None,
        }
    }

    /// Refused as the core's error says (its status and wait), in its
    /// words ([`words`]: the page's language where it has them).
    pub fn refused(err: &(impl CodedError + std::fmt::Debug)) -> Told {
        let app = AppError::from_coded(err);
        Told {
            status: app.status,
            retry_after: app.retry_after_secs,
            errors: vec![words(err)],
            notice: None,
        }
    }
}

/// Renders a form page with the status and `Retry-After` of what it tells.
pub fn render_told(status: StatusCode, retry_after: Option<u64>, page: &impl Template) -> Response {
    let mut response = render(status, page);
    set_retry_after(&mut response, retry_after);
    response
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::root))
        .route("/home", get(home::home))
        .route("/signin", get(signin::first_screen))
        .route(
            "/signin/username",
            get(signin::username_step).post(signin::submit_username),
        )
        .route("/signin/password", post(signin::submit_password))
        .route(
            "/signin/verify",
            get(second_step::form).post(second_step::submit),
        )
        .route("/signin/verify/cancel", post(second_step::cancel))
        .route("/signout", post(signin::sign_out))
        .route("/sso/{id}/start", get(sso::start))
        .route("/sso/callback", get(sso::callback))
        // The development inbox: 404 unless `mail.dev_inbox` is on (the core refuses).
        .route("/dev/mail", get(dev_mail::inbox))
        .route("/dev/mail/{id}", get(dev_mail::message))
        .route(
            "/recovery",
            get(recovery::request_form).post(recovery::submit_request),
        )
        .route("/recovery/sent", get(recovery::sent))
        .route("/recovery/code", post(recovery::submit_code))
        .route(
            "/recovery/{token}",
            get(recovery::reset_form).post(recovery::submit_reset),
        )
        .route(
            "/security/not-me/{token}",
            get(recovery::not_me_form).post(recovery::submit_not_me),
        )
        .route(
            "/activate",
            get(activate::code_form).post(activate::submit_account),
        )
        .route("/activate/code", post(activate::submit_code))
        .route("/join", get(join::join_form).post(join::submit_join))
        .route(
            "/classes/join",
            get(join::join_class_form).post(join::submit_join_class),
        )
        .route("/classes/{id}", get(class_code::show))
        .route(
            "/classes/{id}/class-code",
            get(class_code::confirm).post(class_code::change_code),
        )
        .route(
            "/classes/{id}/password-reset",
            get(class_reset::form).post(class_reset::submit),
        )
        .route("/classes", get(school::class_database))
        .route("/school", get(school::subscription))
        .route("/school/students", get(school::student_database))
        .route("/school/accounts", get(credentials::school_accounts))
        .route("/school/accounts/codes", get(credentials::school_codes))
        .route("/school/credentials.csv", get(credentials::school_csv))
        .route("/classes/{id}/accounts", get(credentials::class_accounts))
        .route(
            "/classes/{id}/accounts/codes",
            get(credentials::class_codes),
        )
        .route("/classes/{id}/credentials.csv", get(credentials::class_csv))
        .route("/children", get(children::show).post(children::link_child))
        .route(
            "/schools/{id}/roster",
            get(roster::form)
                .post(roster::upload)
                .layer(DefaultBodyLimit::max(ROSTER_BODY_LIMIT_BYTES)),
        )
        .route(
            "/learners/{id}/password",
            get(learner_password::show).post(learner_password::reset),
        )
        .route(
            "/learners/{id}/password/show",
            post(learner_password::reveal),
        )
        .route(
            "/learners/{id}/password/generate",
            post(learner_password::generate),
        )
        .route(
            "/school/settings",
            get(school_settings::show).post(school_settings::update_learner_passwords),
        )
        .route(
            "/school/settings/mfa",
            post(school_settings::update_mfa_rule),
        )
        .route(
            "/school/settings/passkeys",
            post(school_settings::update_learner_passkeys),
        )
        .route(
            "/schools/{id}/sso",
            get(sso_providers::show).post(sso_providers::add),
        )
        .route(
            "/schools/{id}/sso/{provider_id}/remove",
            get(sso_providers::confirm_remove).post(sso_providers::remove),
        )
        .route("/sso", get(sso_choices::list))
        .route("/audit", get(audit::show))
        .route("/audit.csv", get(audit::csv))
        .route("/users", get(users_list::list))
        .route("/users/new", get(people::new_form).post(people::create))
        .route("/users/{id}", get(people::show))
        .route(
            "/users/{id}/access-code",
            get(people::confirm_reissue).post(people::reissue_code),
        )
        .route(
            "/users/{id}/disable",
            get(user_status::confirm_disable).post(user_status::disable),
        )
        .route("/users/{id}/enable", post(user_status::enable))
        .route(
            "/users/{id}/sso-links/{provider_id}/unlink",
            get(sso_links::confirm_unlink).post(sso_links::unlink),
        )
        .route(
            "/users/{id}/password-reset",
            get(user_admin::confirm_reset_link).post(user_admin::send_reset_link),
        )
        .route(
            "/users/{id}/temporary-password",
            get(user_admin::confirm_temporary_password).post(user_admin::set_temporary_password),
        )
        .route(
            "/users/{id}/mfa-reset",
            get(user_admin::confirm_mfa_reset).post(user_admin::reset_mfa),
        )
        .route("/account", get(account::overview))
        .route(
            "/account/password",
            get(account::password_form).post(account::submit_password),
        )
        .route(
            "/account/email",
            get(account_email::form).post(account_email::submit),
        )
        .route(
            "/account/language",
            get(account_language::form).post(account_language::submit),
        )
        .route("/account/mfa", get(mfa::overview))
        .route("/account/mfa/totp", post(mfa::start_setup))
        .route("/account/mfa/totp/confirm", post(mfa::confirm_setup))
        .route("/account/mfa/recovery-codes", post(mfa::new_recovery_codes))
        .route(
            "/account/mfa/off",
            get(mfa::turn_off_form).post(mfa::turn_off),
        )
        .route("/account/sessions", get(account_sessions::show))
        .route(
            "/account/sessions/sign-out-others",
            get(account_sessions::confirm_sign_out_others).post(account_sessions::sign_out_others),
        )
        .route(
            "/account/sessions/{id}/sign-out",
            post(account_sessions::sign_out_one),
        )
        .route(
            "/account/tokens",
            get(account_tokens::show).post(account_tokens::create),
        )
        .route(
            "/account/tokens/{id}/revoke",
            get(account_tokens::revoke_form).post(account_tokens::revoke),
        )
        .route("/account/passkeys", get(passkeys::list))
        .route(
            "/account/passkeys/{id}/remove",
            get(passkeys::remove_form).post(passkeys::submit_remove),
        )
        .route(
            "/.well-known/change-password",
            get(account::well_known_change_password),
        )
}

#[cfg(test)]
mod tests {
    use super::{MenuLink, Nav, menu_links, safe_next};
    use crate::signed_in::return_to;
    use keyward_core::authz::{Actor, Permission, PermissionSet};
    use keyward_core::types::{Role, SchoolId, UserId};

    fn actor(role: Role, granted: &[Permission]) -> Actor {
        Actor {
            user_id: UserId::parse("0b6d2c1e-6f0a-4e55-9f43-2d6c1b9d8e01").unwrap(),
            role,
            school_id: (role != Role::PlatformAdmin)
                .then(|| SchoolId::parse("5a1f0c3e-7d8b-4f21-a6e4-9c0b2d3e4f50").unwrap()),
            granted: PermissionSet::of(granted),
            classes: Vec::new(),
            token: None,
            second_factor_at_provider: false,
        }
    }

    /// The menu's labels as an English reader sees them.
    fn labels(actor: &Actor) -> Vec<String> {
        menu_links(actor)
            .into_iter()
            .map(|(_, label)| keyward_core::i18n::text_in(keyward_core::i18n::Locale::En, label))
            .collect()
    }

    #[test]
    fn the_menu_offers_each_role_what_it_may_open() {
        let cases: [(Role, &[&str]); 5] = [
            (
                Role::PlatformAdmin,
                &["Home", "Users", "Audit log", "Account Settings"],
            ),
            (
                Role::LeadTeacher,
                &[
                    "Home",
                    "Class database",
                    "Subscription management",
                    "Users",
                    "Audit log",
                    "Account Settings",
                ],
            ),
            (
                Role::Teacher,
                &["Home", "Class database", "Account Settings"],
            ),
            (Role::Learner, &["Home", "Account Settings"]),
            (Role::Parent, &["Home", "Your children", "Account Settings"]),
        ];
        for (role, expected) in cases {
            assert_eq!(labels(&actor(role, &[])), expected, "{role:?}");
        }
    }

    #[test]
    fn a_custom_role_brings_its_pages_into_the_menu() {
        let helper = actor(
            Role::Teacher,
            &[Permission::UsersView, Permission::AuditView],
        );
        assert_eq!(
            labels(&helper),
            [
                "Home",
                "Class database",
                "Users",
                "Audit log",
                "Account Settings"
            ]
        );
        // learners.view from a custom role holds school-wide: the school's pages.
        let deputy = actor(Role::Teacher, &[Permission::LearnersView]);
        assert_eq!(
            labels(&deputy),
            [
                "Home",
                "Class database",
                "Subscription management",
                "Account Settings"
            ]
        );
    }

    #[test]
    fn the_menu_marks_the_page_shown_and_its_section() {
        let at = |path| {
            ["/home", "/classes", "/account"].map(|href| MenuLink::at(href, "x", path).current)
        };
        assert_eq!(at("/home"), [Some("page"), None, None]);
        assert_eq!(at("/classes"), [None, Some("page"), None]);
        assert_eq!(at("/classes/abc/accounts"), [None, Some("true"), None]);
        assert_eq!(at("/account/sessions"), [None, None, Some("true")]);
        assert_eq!(at("/accounting"), [None, None, None]);
        assert_eq!(at("/"), [None, None, None]);
    }

    #[test]
    fn the_menu_never_prints_its_csrf_token() {
        let nav = Nav {
            username: "amy".into(),
            display_name: "Amy".into(),
            role_label: "Learner",
            role_message: "role-learner",
            csrf_token: "csrf-Sesame-42".into(),
            links: Vec::new(),
            school_name: None,
        };
        assert!(!format!("{nav:?}").contains("Sesame"));
    }

    #[test]
    fn every_menu_label_and_role_name_is_an_english_message() {
        use keyward_core::authz::{Actor, PermissionSet};
        use keyward_core::i18n::{Locale, has};
        use keyward_core::types::{Role, SchoolId, UserId};
        for role in Role::ALL {
            // Every grant, so every entry the menu can show is looked at.
            let actor = Actor {
                user_id: UserId::parse("00000000-0000-4000-8000-000000000001").unwrap(),
                role,
                school_id: SchoolId::parse("00000000-0000-4000-8000-000000000002"),
                granted: PermissionSet::of(&keyward_core::authz::Permission::ALL),
                classes: Vec::new(),
                token: None,
                second_factor_at_provider: false,
            };
            for (_, label) in super::menu_links(&actor) {
                assert!(has(Locale::En, label), "{label} is not in English");
            }
            let name = super::role_message(role);
            assert!(has(Locale::En, name), "{name} is not in English");
        }
    }

    #[test]
    fn sign_in_accepts_every_page_it_is_asked_to_return_to() {
        for page in return_to::ALL.iter().flatten() {
            assert_eq!(
                safe_next(page),
                Some(*page),
                "sign-in would not return to {page}"
            );
        }
    }
}
