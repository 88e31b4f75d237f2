//! `keyward admin create --username NAME [--email ADDRESS]`: the first
//! platform admin; the password comes from standard input, never the command
//! line (where it would land in shell history and process lists).

use std::io::{BufRead, IsTerminal, Read, Write};

use keyward_core::settings::Settings;
use keyward_core::types::random::OsRandom;
use keyward_core::types::{EmailAddress, Password, UnixTime, Username};
use keyward_core::{Ctx, error::CodedError};

use super::{CommandError, failed, open};

pub async fn create(
    settings: Settings,
    username: &str,
    email: Option<&str>,
) -> Result<(), CommandError> {
    let username = Username::parse(username).map_err(|e| failed(format!("--username: {e}")))?;
    let email = email
        .map(EmailAddress::parse)
        .transpose()
        .map_err(|e| failed(format!("--email: {e}")))?;
    let password = read_password()?;
    let kw = open(settings).await?;
    let ctx = Ctx::new(UnixTime::now(), &OsRandom);
    let outcome = kw
        .create_platform_admin(&ctx, &username, email.as_ref(), &password)
        .await;
    kw.db().close().await;
    match outcome {
        Ok(_) => {
            println!(
                "Created platform admin {username}. Sign in at {}",
                kw.settings().server.public_url
            );
            Ok(())
        }
        Err(err) => Err(failed(format!("{err} ({})", err.code()))),
    }
}

/// Reads the password from standard input: the first line, exactly as typed
/// apart from the line ending. Only that line is read, so typing it at a
/// terminal and pressing Enter is enough.
fn read_password() -> Result<Password, CommandError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (shown as you type; end with Enter): ");
        let _ = std::io::stderr().flush();
    }
    let mut input = String::new();
    stdin
        .lock()
        .take(64 * 1024)
        .read_line(&mut input)
        .map_err(|e| failed(format!("cannot read the password from standard input: {e}")))?;
    let line = input.split('\n').next().unwrap_or_default();
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() {
        return Err(failed(
            "no password on standard input (pipe it in, e.g. `keyward admin create --username NAME < password.txt`)",
        ));
    }
    let password = Password::from(line);
    if password.is_over_long() {
        return Err(failed("the password is longer than keyward accepts"));
    }
    Ok(password)
}
