//! The **Sign in with …** buttons (issue 14) on the first sign-in screen and
//! on the password step, and `/sso`, every school's providers grouped by
//! school name. The buttons are the same for every visitor — the password
//! step never chooses them by the typed username, so they tell nothing about
//! which accounts exist. Each is a plain link to `/sso/{provider_id}/start`.
//! With more than [`MAX_BUTTONS`] providers, a single link to `/sso` stands
//! for them.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::i18n::Translate as _;

use keyward_core::i18n::Message;
use keyward_core::sso::SignInChoice;

use super::{Nav, render};
use crate::error::AppError;
use crate::extract::Visitor;
use crate::state::AppState;

/// Up to this many providers get a button each on the sign-in pages.
pub const MAX_BUTTONS: usize = 4;

/// One **Sign in with …** link.
pub struct SsoButton {
    pub href: String,
    pub label: String,
}

/// What the sign-in pages show under their form (`sso_buttons.html`).
#[derive(Default)]
pub struct SsoButtons {
    pub buttons: Vec<SsoButton>,
    /// More providers than buttons: one link to `/sso` instead.
    pub more: bool,
}

impl SsoButtons {
    pub fn any(&self) -> bool {
        self.more || !self.buttons.is_empty()
    }

    /// The buttons for these choices: one each while they are few, the
    /// school's name added where two providers share a name.
    pub fn of(choices: &[SignInChoice]) -> SsoButtons {
        if choices.len() > MAX_BUTTONS {
            return SsoButtons {
                buttons: Vec::new(),
                more: true,
            };
        }
        let shared = |choice: &SignInChoice| {
            (choices.iter())
                .filter(|other| other.name.eq_ignore_ascii_case(&choice.name))
                .count()
                > 1
        };
        let buttons = (choices.iter())
            .map(|choice| SsoButton {
                href: start_href(choice),
                label: match shared(choice) {
                    true => Message::new("sso-sign-in-with-at-school")
                        .with("provider", &choice.name)
                        .with("school", &choice.school_name)
                        .to_string(),
                    false => Message::new("sso-sign-in-with")
                        .with("provider", &choice.name)
                        .to_string(),
                },
            })
            .collect();
        SsoButtons {
            buttons,
            more: false,
        }
    }
}

fn start_href(choice: &SignInChoice) -> String {
    format!("/sso/{}/start", choice.provider_id)
}

/// The buttons for every visitor alike.
pub async fn sso_buttons(state: &AppState) -> Result<SsoButtons, AppError> {
    Ok(SsoButtons::of(&state.kw.sign_in_choices().await?))
}

/// One school's providers on `/sso`.
struct SchoolChoices {
    school_name: String,
    buttons: Vec<SsoButton>,
}

#[derive(Template)]
#[template(path = "sso_choices.html")]
struct ChoicesPage {
    nav: Option<Nav>,
    schools: Vec<SchoolChoices>,
}

/// The choices grouped by school, in the order given (by school name).
fn grouped(choices: Vec<SignInChoice>) -> Vec<SchoolChoices> {
    let mut schools: Vec<(String, SchoolChoices)> = Vec::new();
    for choice in choices {
        let button = SsoButton {
            href: start_href(&choice),
            label: Message::new("sso-sign-in-with")
                .with("provider", &choice.name)
                .to_string(),
        };
        let school = choice.school_id.to_string();
        match schools.last_mut() {
            Some((id, group)) if *id == school => group.buttons.push(button),
            _ => schools.push((
                school,
                SchoolChoices {
                    school_name: choice.school_name,
                    buttons: vec![button],
                },
            )),
        }
    }
    schools.into_iter().map(|(_, group)| group).collect()
}

/// `/sso`: **Sign in with your school's account**, every school's providers.
pub async fn list(State(state): State<AppState>, visitor: Visitor) -> Result<Response, AppError> {
    let page = ChoicesPage {
        nav: Nav::of(&visitor),
        schools: grouped(state.kw.sign_in_choices().await?),
    };
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyward_core::sso::SsoProviderId;
    use keyward_core::types::SchoolId;

    fn choice(n: u8, name: &str, school: u8) -> SignInChoice {
        SignInChoice {
            provider_id: SsoProviderId::parse(&format!("00000000-0000-4000-8000-0000000000{n:02}"))
                .unwrap(),
            name: name.into(),
            school_id: SchoolId::parse(&format!("00000000-0000-4000-8000-0000000001{school:02}"))
                .unwrap(),
            school_name: format!("School {school}"),
        }
    }

    #[test]
    fn up_to_four_providers_get_a_button_each_and_more_get_one_link() {
        let four: Vec<_> = (0..4).map(|n| choice(n, &format!("P{n}"), n)).collect();
        let buttons = SsoButtons::of(&four);
        assert!(!buttons.more);
        assert_eq!(buttons.buttons.len(), 4);
        assert_eq!(buttons.buttons[1].label, "Sign in with P1");
        assert_eq!(
            buttons.buttons[1].href,
            "/sso/00000000-0000-4000-8000-000000000001/start"
        );
        let five: Vec<_> = (0..5).map(|n| choice(n, "P", n)).collect();
        let buttons = SsoButtons::of(&five);
        assert!(buttons.more && buttons.buttons.is_empty() && buttons.any());
        assert!(!SsoButtons::of(&[]).any());
    }

    #[test]
    fn two_providers_of_one_name_are_told_apart_by_school() {
        let buttons = SsoButtons::of(&[choice(1, "Google", 1), choice(2, "google", 2)]);
        assert_eq!(buttons.buttons[0].label, "Sign in with Google (School 1)");
        assert_eq!(buttons.buttons[1].label, "Sign in with google (School 2)");
    }

    #[test]
    fn the_list_groups_providers_by_school() {
        let groups = grouped(vec![
            choice(1, "A", 1),
            choice(2, "B", 1),
            choice(3, "C", 2),
        ]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].school_name, "School 1");
        assert_eq!(groups[0].buttons.len(), 2);
        assert_eq!(groups[1].buttons[0].label, "Sign in with C");
    }
}
