//! **Import learners** (R-TCH-6, the "Uploading Students" process): the lead
//! teacher uploads a roster CSV in a plain multipart form (no JavaScript
//! needed) and sees either every learner created with their codes, or every
//! problem of the refused file as a table. The rules are the core's.

use askama::Template;
use axum::extract::multipart::{Field, Multipart, MultipartError, MultipartRejection};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use keyward_core::error::Code;
use keyward_core::i18n::{self, Message, Translate as _};

use keyward_core::authz::Actor;
use keyward_core::classroom::roster::{
    MAX_ROSTER_BYTES, MAX_ROSTER_LEARNERS, RosterError, RosterRejection, RosterReport, RosterSchool,
};
use keyward_core::types::SchoolId;

use super::trail::{self, Crumbs};
use super::{Nav, render};
use crate::error::{AppError, coded};
use crate::extract::{Client, Visitor, path_id};
use crate::signed_in::{SignedIn, return_to};
use crate::state::AppState;

/// The columns of a roster file as the page explains them: their names
/// (the file's format, never translated) and the message id saying what
/// goes in them.
const COLUMNS: [(&str, &str); 4] = [
    (
        "first_name, last_name",
        "teacher-roster-column-first-last-name",
    ),
    ("class", "teacher-roster-column-class"),
    ("username", "teacher-roster-column-username"),
    ("email", "teacher-roster-column-email"),
];

/// One problem as the table shows it.
struct ProblemLine {
    row: Option<u64>,
    column: Option<String>,
    message: String,
}

/// One created learner as the table shows them.
struct LearnerLine {
    row: u64,
    first_name: String,
    last_name: String,
    class: String,
    username: Option<String>,
    access_code: String,
    parent_access_code: String,
}

struct Imported {
    school_name: String,
    learners: Vec<LearnerLine>,
    new_classes: Vec<String>,
}

#[derive(Template)]
#[template(path = "roster.html")]
struct RosterPage {
    nav: Option<Nav>,
    trail: Crumbs,
    csrf_token: String,
    school_id: String,
    school_name: String,
    max_megabytes: usize,
    /// Written with a thousands separator.
    max_learners: String,
    /// The file's columns, each with what goes in it.
    columns: [(&'static str, &'static str); 4],
    /// Why the last upload was refused, if it was.
    refused: Option<String>,
    problems: Vec<ProblemLine>,
    /// Problems counted but not listed.
    unlisted: usize,
    imported: Option<Imported>,
}

impl RosterPage {
    fn new(visitor: &Visitor, school: &RosterSchool) -> RosterPage {
        RosterPage {
            nav: Nav::of(visitor),
            trail: trail::home(),
            csrf_token: visitor.csrf_token(),
            school_id: school.id.to_string(),
            school_name: school.name.clone(),
            max_megabytes: MAX_ROSTER_BYTES / (1024 * 1024),
            max_learners: thousands(MAX_ROSTER_LEARNERS),
            columns: COLUMNS,
            refused: None,
            problems: Vec::new(),
            unlisted: 0,
            imported: None,
        }
    }

    fn refused(mut self, rejection: RosterRejection) -> Self {
        let summary = Message::new("teacher-roster-refused").with("count", rejection.problem_count);
        self.refused = Some(summary.to_string());
        self.unlisted = rejection
            .problem_count
            .saturating_sub(rejection.problems.len());
        self.problems = rejection
            .problems
            .into_iter()
            .map(|p| ProblemLine {
                row: p.row,
                column: p.column,
                message: p.message,
            })
            .collect();
        self
    }

    /// The refusal in the words of the message `id`.
    fn with_summary(mut self, id: &str) -> Self {
        self.refused = Some(i18n::text(id));
        self
    }

    fn imported(mut self, report: RosterReport) -> Self {
        self.imported = Some(report.into());
        self
    }
}

impl From<RosterReport> for Imported {
    fn from(report: RosterReport) -> Self {
        Imported {
            school_name: report.school.name,
            new_classes: report.new_classes,
            learners: report
                .learners
                .into_iter()
                .map(|l| LearnerLine {
                    row: l.row,
                    first_name: l.first_name,
                    last_name: l.last_name,
                    class: l.class,
                    username: l.username,
                    access_code: l.access_code,
                    parent_access_code: l.parent_access_code,
                })
                .collect(),
        }
    }
}

/// `10000` as `10,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The school of the address, into which the actor must be allowed to import.
async fn school_for(
    state: &AppState,
    client: &Client,
    actor: &Actor,
    path: Result<Path<String>, PathRejection>,
) -> Result<RosterSchool, AppError> {
    let school = path_id(path, SchoolId::parse)?;
    state
        .kw
        .roster_school(&state.ctx(client), actor, &school)
        .await
        .map_err(coded)
}

pub async fn form(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::NoPage>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let school = school_for(&state, &client, &actor, path).await?;
    let page = RosterPage::new(&visitor, &school);
    Ok(visitor.respond(&state, render(StatusCode::OK, &page)))
}

/// What the multipart form carried.
struct Upload {
    csrf_token: String,
    /// The file's name and bytes, if a file was chosen.
    file: Option<(String, axum::body::Bytes)>,
}

fn multipart_problem(err: &MultipartError) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let megabytes = MAX_ROSTER_BYTES / (1024 * 1024);
        AppError::new(
            Code::PayloadTooLarge,
            Message::new("teacher-roster-too-large")
                .with("megabytes", megabytes)
                .to_string(),
        )
    } else {
        AppError::new(
            Code::InvalidForm,
            i18n::text("teacher-roster-upload-incomplete"),
        )
    }
}

async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> Result<Upload, AppError> {
    let mut multipart = multipart.map_err(|_| {
        AppError::new(
            Code::UnsupportedMediaType,
            i18n::text("teacher-roster-not-a-file-upload"),
        )
    })?;
    let mut upload = Upload {
        csrf_token: String::new(),
        file: None,
    };
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_problem(&e))?
    {
        upload.take(field).await?;
    }
    Ok(upload)
}

impl Upload {
    /// Keeps the field if it is one of the form's (the token or the file).
    async fn take(&mut self, field: Field<'_>) -> Result<(), AppError> {
        match field.name() {
            Some("csrf_token") => {
                self.csrf_token = field.text().await.map_err(|e| multipart_problem(&e))?;
            }
            Some("roster") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                let bytes = field.bytes().await.map_err(|e| multipart_problem(&e))?;
                self.file = Some((name, bytes));
            }
            _ => {}
        }
        Ok(())
    }
}

pub async fn upload(
    State(state): State<AppState>,
    client: Client,
    SignedIn { visitor, actor, .. }: SignedIn<return_to::NoPage>,
    path: Result<Path<String>, PathRejection>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let school = school_for(&state, &client, &actor, path).await?;
    let upload = read_upload(multipart).await?;
    visitor.verify_csrf(&upload.csrf_token)?;
    let page = RosterPage::new(&visitor, &school);
    let (status, page) = match upload.file {
        Some((name, bytes)) if !(name.is_empty() && bytes.is_empty()) => {
            let ctx = state.ctx(&client);
            let imported = state
                .kw
                .import_roster(&ctx, &actor, &school.id, &bytes)
                .await;
            page.after_import(imported)?
        }
        _ => page.without_file(),
    };
    Ok(visitor.respond(&state, render(status, &page)))
}

impl RosterPage {
    /// The page after an import: every learner created, or every problem.
    fn after_import(
        self,
        imported: Result<RosterReport, RosterError>,
    ) -> Result<(StatusCode, RosterPage), AppError> {
        match imported {
            Ok(report) => Ok((StatusCode::OK, self.imported(report))),
            Err(RosterError::Invalid(rejection)) => {
                Ok((StatusCode::UNPROCESSABLE_ENTITY, self.refused(rejection)))
            }
            Err(other) => Err(coded(other)),
        }
    }

    /// The page when no file was chosen.
    fn without_file(self) -> (StatusCode, RosterPage) {
        let page = self
            .refused(RosterRejection {
                problems: Vec::new(),
                problem_count: 0,
            })
            .with_summary("teacher-roster-no-file");
        (StatusCode::UNPROCESSABLE_ENTITY, page)
    }
}
