//! `keyward export --school SCHOOL_ID [--class CLASS_ID] [--output FILE]`:
//! the credentials CSV of R-TCH-5 (usernames, passwords when kept, access
//! codes, parent access codes) of a whole school or one of its classes, run
//! by the operator, who acts with a platform admin's rights. The core writes
//! the audit row. The CSV goes to standard output, or to a new file only its
//! owner may read; the summary goes to standard error.

use std::io::Write;
use std::path::Path;

use futures_util::StreamExt;
use keyward_core::classroom::credentials::{
    CredentialsCsv, CredentialsError, CredentialsOf, CredentialsScope,
};
use keyward_core::error::CodedError;
use keyward_core::settings::Settings;
use keyward_core::types::random::OsRandom;
use keyward_core::types::{ClassId, SchoolId, UnixTime};
use keyward_core::{Ctx, Keyward};

use super::{CommandError, failed, open};

pub async fn run(
    settings: Settings,
    school: &str,
    class: Option<&str>,
    output: Option<&Path>,
) -> Result<(), CommandError> {
    let school = SchoolId::parse(school.trim())
        .ok_or_else(|| failed(format!("--school: {school:?} is not a school id")))?;
    let class = class
        .map(|text| {
            ClassId::parse(text.trim())
                .ok_or_else(|| failed(format!("--class: {text:?} is not a class id")))
        })
        .transpose()?;
    // The file is opened (private) before anything is read or audited, so a
    // path that cannot be written leaves no "exported" row behind.
    let sink = match output {
        Some(path) => Sink::File(open_private_file(path)?, path),
        None => Sink::Stdout(std::io::stdout()),
    };
    let kw = open(settings).await?;
    let outcome = match export(&kw, &school, class.as_ref()).await {
        Ok(csv) => sink.write(csv).await,
        Err(err) => Err(err),
    };
    kw.db().close().await;
    let (csv, place) = outcome?;
    let scope = match &csv.scope {
        CredentialsScope::Class { name, .. } => format!("{name} of {}", csv.school_name),
        CredentialsScope::School => csv.school_name.clone(),
    };
    let rows = csv.rows;
    eprintln!(
        "Exported {rows} learner row{} of {scope} to {place}. It holds passwords and access codes: keep it safe.",
        if rows == 1 { "" } else { "s" }
    );
    Ok(())
}

/// Where the CSV goes.
enum Sink<'a> {
    File(std::fs::File, &'a Path),
    Stdout(std::io::Stdout),
}

impl Sink<'_> {
    /// Writes the CSV piece by piece as the core streams it; gives back the
    /// CSV's description and where it went. A file is emptied again when
    /// the export stops mid-way, so no partial file looks whole.
    async fn write(
        self,
        mut csv: CredentialsCsv,
    ) -> Result<(CredentialsCsv, String), CommandError> {
        let place = match &self {
            Sink::File(_, path) => path.display().to_string(),
            Sink::Stdout(_) => "standard output".to_owned(),
        };
        let cannot = |e: std::io::Error| failed(format!("cannot write {place}: {e}"));
        let mut body = std::mem::replace(&mut csv.body, futures_util::stream::empty().boxed());
        match self {
            Sink::File(mut file, _) => {
                while let Some(piece) = body.next().await {
                    match piece {
                        Ok(piece) => file.write_all(&piece).map_err(cannot)?,
                        Err(err) => {
                            file.set_len(0).map_err(cannot)?;
                            return Err(failed(err.cause()));
                        }
                    }
                }
                file.sync_all().map_err(cannot)?;
            }
            Sink::Stdout(mut stdout) => {
                while let Some(piece) = body.next().await {
                    let piece = piece.map_err(|err| failed(err.cause()))?;
                    stdout.write_all(&piece).map_err(cannot)?;
                }
                stdout.flush().map_err(cannot)?;
            }
        }
        Ok((csv, place))
    }
}

/// The school's or the class's credentials CSV, checking that the class is
/// the school's before anything secret is read (or audited).
async fn export(
    kw: &std::sync::Arc<Keyward>,
    school: &SchoolId,
    class: Option<&ClassId>,
) -> Result<CredentialsCsv, CommandError> {
    let ctx = Ctx::new(UnixTime::now(), &OsRandom);
    let operator = Keyward::operator_actor();
    let of = match class {
        None => CredentialsOf::School(school.clone()),
        Some(class) => {
            let accounts = kw
                .class_accounts(&ctx, &operator, class)
                .await
                .map_err(|e| not_found(e, "no such class"))?;
            if &accounts.school_id != school {
                return Err(failed(format!(
                    "--class: class {class} is not a class of school {school} (not_found)"
                )));
            }
            CredentialsOf::Class(class.clone())
        }
    };
    kw.export_credentials_csv(&ctx, &operator, &of)
        .await
        .map_err(|e| not_found(e, "no such school"))
}

fn not_found(err: CredentialsError, what: &str) -> CommandError {
    match err {
        CredentialsError::Internal(internal) => failed(internal.cause()),
        other if other.code() == "not_found" => failed(format!("{what} (not_found)")),
        other => failed(format!("{other} ({})", other.code())),
    }
}

/// Opens `path` for the export: a file only its owner may read and write
/// (0600, also when it existed), made private and emptied before anything is
/// written to it.
fn open_private_file(path: &Path) -> Result<std::fs::File, CommandError> {
    let cannot = |e: std::io::Error| failed(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path).map_err(cannot)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(cannot)?;
    }
    file.set_len(0).map_err(cannot)?;
    Ok(file)
}
