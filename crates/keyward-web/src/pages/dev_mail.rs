//! `/dev/mail` (R-MAIL-2): the development inbox of `keyward demo`, so a
//! newcomer can follow a reset link without any mail server. It lists the
//! messages the file transport captured, newest first, and shows one
//! message's plain-text part with its http(s) links made clickable (all other
//! text escaped). Reading the mail folder is the core's
//! (`keyward_core::dispatch::dev_inbox`), which answers 404 unless
//! `mail.dev_inbox` is on; this page only renders.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use keyward_core::dispatch::dev_inbox::{self, InboxEntry};
use keyward_core::i18n::{self, Translate as _};
use keyward_core::types::UnixTime;

use super::{Nav, render};
use crate::error::AppError;
use crate::extract::Visitor;
use crate::state::AppState;

/// A piece of a message's text: plain text, or a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Link(String),
}

/// Splits `text` into plain runs and http(s) links (linkify finds the
/// boundaries, leaving trailing punctuation out of the link).
pub fn link_segments(text: &str) -> Vec<Segment> {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    let mut segments = Vec::new();
    for span in finder.spans(text) {
        let piece = span.as_str().to_owned();
        let is_web_link = span.kind().is_some()
            && (piece.starts_with("https://") || piece.starts_with("http://"));
        match (is_web_link, segments.last_mut()) {
            (true, _) => segments.push(Segment::Link(piece)),
            (false, Some(Segment::Text(previous))) => previous.push_str(&piece),
            (false, _) => segments.push(Segment::Text(piece)),
        }
    }
    segments
}

/// A date as `<time datetime="2026-09-07T08:00:00Z">2026-09-07 08:00 UTC</time>` wants it.
struct ShownDate {
    iso: String,
    text: String,
}

fn shown(date: Option<UnixTime>) -> Option<ShownDate> {
    date.map(|date| {
        let iso = dev_inbox::format_utc(date);
        // `2026-09-07T08:00:00Z` → `2026-09-07 08:00 UTC`
        let text = match (iso.get(..10), iso.get(11..16)) {
            (Some(day), Some(time)) => format!("{day} {time} UTC"),
            _ => iso.clone(),
        };
        ShownDate { iso, text }
    })
}

struct Row {
    id: String,
    to: String,
    subject: String,
    date: Option<ShownDate>,
}

impl From<InboxEntry> for Row {
    fn from(entry: InboxEntry) -> Row {
        Row {
            id: entry.id,
            to: entry.to,
            subject: entry.subject,
            date: shown(entry.date),
        }
    }
}

#[derive(Template)]
#[template(path = "dev_mail_list.html")]
struct InboxPage {
    nav: Option<Nav>,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "dev_mail_message.html")]
struct MessagePage {
    nav: Option<Nav>,
    /// Back to the inbox: (address, label).
    crumbs: Vec<(&'static str, String)>,
    subject: String,
    from: String,
    to: String,
    date: Option<ShownDate>,
    segments: Vec<Segment>,
}

pub async fn inbox(State(state): State<AppState>, visitor: Visitor) -> Response {
    match dev_inbox::list(&state.kw).await {
        Ok(entries) => {
            let page = InboxPage {
                nav: Nav::of(&visitor),
                rows: entries.into_iter().map(Row::from).collect(),
            };
            visitor.respond(&state, render(StatusCode::OK, &page))
        }
        Err(err) => AppError::from_coded(&err).into_response(),
    }
}

pub async fn message(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    match dev_inbox::read(&state.kw, &id).await {
        Ok(message) => {
            let page = MessagePage {
                nav: Nav::of(&visitor),
                crumbs: vec![("/dev/mail", i18n::text("admin-mail-title"))],
                subject: message.subject,
                from: message.from,
                to: message.to,
                date: shown(message.date),
                segments: link_segments(&message.text),
            };
            visitor.respond(&state, render(StatusCode::OK, &page))
        }
        Err(err) => AppError::from_coded(&err).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_cut_out_of_the_text_without_trailing_punctuation() {
        let segments =
            link_segments("Open https://kw.example/r/abc?x=1&y=2. Or ftp://no.example, or <b>.");
        assert_eq!(
            segments,
            vec![
                Segment::Text("Open ".into()),
                Segment::Link("https://kw.example/r/abc?x=1&y=2".into()),
                Segment::Text(". Or ftp://no.example, or <b>.".into()),
            ]
        );
        assert_eq!(link_segments(""), Vec::<Segment>::new());
    }
}
