//! `keyward export --school SCHOOL_ID [--class CLASS_ID] [--output FILE]`:
//! the credentials CSV of R-TCH-5 (usernames, passwords when kept, access
//! codes, parent access codes) of a whole school or one of its classes, run
//! by the operator, who acts with a platform admin's rights. The core writes
//! the audit row. The CSV goes to standard output, or to a new file only its
//! owner may read; the summary goes to standard error.

use std::io::Write;
use std::path::Path;

use keyward_core::classroom::credentials::{Credentials, CredentialsError, CredentialsUse};
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
    let file = output.map(open_private_file).transpose()?;
    let kw = open(settings).await?;
    let outcome = export(&kw, &school, class.as_ref()).await;
    kw.db().close().await;
    let credentials = outcome?;
    let csv = credentials.to_csv().map_err(|e| failed(e.cause()))?;
    let place = match (output, file) {
        (Some(path), Some(mut file)) => {
            file.write_all(&csv)
                .and_then(|()| file.sync_all())
                .map_err(|e| failed(format!("cannot write {}: {e}", path.display())))?;
            path.display().to_string()
        }
        _ => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&csv)
                .and_then(|()| stdout.flush())
                .map_err(|e| failed(format!("cannot write to standard output: {e}")))?;
            "standard output".to_owned()
        }
    };
    let scope = match &credentials.scope {
        keyward_core::classroom::credentials::CredentialsScope::Class { name, .. } => {
            format!("{name} of {}", credentials.school_name)
        }
        keyward_core::classroom::credentials::CredentialsScope::School => {
            credentials.school_name.clone()
        }
    };
    let rows = credentials.rows.len();
    eprintln!(
        "Exported {rows} learner row{} of {scope} to {place}. It holds passwords and access codes: keep it safe.",
        if rows == 1 { "" } else { "s" }
    );
    Ok(())
}

/// The school's or the class's credentials, checking that the class is the
/// school's before anything secret is read (or audited).
async fn export(
    kw: &Keyward,
    school: &SchoolId,
    class: Option<&ClassId>,
) -> Result<Credentials, CommandError> {
    let ctx = Ctx::new(UnixTime::now(), &OsRandom);
    let operator = Keyward::operator_actor();
    let outcome = match class {
        None => {
            kw.school_credentials(&ctx, &operator, school, CredentialsUse::Export)
                .await
        }
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
            kw.class_credentials(&ctx, &operator, class, CredentialsUse::Export)
                .await
        }
    };
    outcome.map_err(|e| not_found(e, "no such school"))
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
