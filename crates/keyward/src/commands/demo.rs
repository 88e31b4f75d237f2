//! `keyward demo`: serve with the demo school (see the core's `demo` module).
//! The demo passwords live in `<data_dir>/demo-accounts.txt` (mode 0600), so
//! they stay the same from run to run and tools can read them. The banner
//! shows them only when standard output is a terminal; when it is redirected
//! to a log, it names the file instead, so no password lands in a log.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use keyward_core::Ctx;
use keyward_core::demo::{DEMO_CLASS_NAME, DEMO_PENDING_LEARNER, DEMO_PEOPLE, DEMO_SCHOOL_NAME};
use keyward_core::policy::{DEFAULT_GENERATED_MIN_BITS, PasswordPolicy, generate_password};
use keyward_core::settings::{MailTransportKind, Settings};
use keyward_core::types::random::OsRandom;
use keyward_core::types::{Password, UnixTime};

use super::{CommandError, failed, open};

const ACCOUNTS_FILE: &str = "demo-accounts.txt";

pub async fn run(mut settings: Settings) -> Result<(), CommandError> {
    // The demo shows captured mail at /dev/mail, so a newcomer can follow a
    // reset link without a mail server. It can only show what the file
    // transport wrote; with SMTP configured, mail goes to that server instead.
    // Never on https: a demo reachable that way could be public, and the
    // inbox shows everyone's reset links.
    settings.mail.dev_inbox =
        settings.mail.transport == MailTransportKind::File && !settings.is_https();
    // A demo's school may connect a test provider on this machine or the
    // local network (`http://127.0.0.1:…`).
    settings.sso.allow_private_addresses = true;
    // Mail in files is what a demo wants; other warnings still apply.
    super::serve::warn_about(&settings, &["mail.transport"]);
    let data_dir = settings.server.data_dir.clone();
    std::fs::create_dir_all(&data_dir).map_err(|e| {
        failed(format!(
            "cannot create the data directory {}: {e}",
            data_dir.display()
        ))
    })?;
    let accounts_path = data_dir.join(ACCOUNTS_FILE);
    let passwords = demo_passwords(&accounts_path)?;

    let kw = open(settings).await?;
    let typed: BTreeMap<String, Password> = passwords
        .iter()
        .map(|(name, text)| (name.clone(), Password::from(text.as_str())))
        .filter(|(_, password)| !password.is_over_long())
        .collect();
    let ctx = Ctx::new(UnixTime::now(), &OsRandom);
    kw.seed_demo(&ctx, &typed)
        .await
        .map_err(|e| failed(format!("cannot create the demo data: {e}")))?;
    kw.seed_demo_extras(&ctx)
        .await
        .map_err(|e| failed(format!("cannot create the demo data: {e}")))?;

    let public_url = kw.settings().server.public_url.to_string();
    let dev_inbox = kw.settings().mail.dev_inbox;
    let class_code = kw
        .demo_class_code()
        .await
        .map_err(|e| failed(format!("cannot read the demo class code: {e}")))?;
    super::serve::serve(kw, |_addr| {
        let banner = Banner {
            public_url: &public_url,
            passwords: &passwords,
            accounts_path: &accounts_path,
            dev_inbox,
            class_code: class_code.as_deref(),
        };
        println!("{}", banner.render(std::io::stdout().is_terminal()));
    })
    .await
}

/// The saved demo passwords, completed with new ones for anyone missing, and
/// written back.
fn demo_passwords(path: &Path) -> Result<BTreeMap<String, String>, CommandError> {
    let mut saved = read_accounts(path);
    for person in DEMO_PEOPLE {
        if !saved.contains_key(person.username) {
            // Strict enough for either preset, whichever one applies to this person.
            let both = PasswordPolicy {
                min_length: 8,
                block_common: true,
                block_username: true,
                ..PasswordPolicy::classic()
            };
            let password = generate_password(
                &both,
                Some(person.username),
                DEFAULT_GENERATED_MIN_BITS,
                &OsRandom,
            )
            .map_err(failed)?;
            saved.insert(person.username.to_owned(), password);
        }
    }
    write_accounts(path, &saved)?;
    Ok(saved)
}

fn read_accounts(path: &Path) -> BTreeMap<String, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeMap::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                [_role, username, password] => {
                    Some(((*username).to_owned(), (*password).to_owned()))
                }
                _ => None,
            }
        })
        .collect()
}

fn write_accounts(path: &Path, passwords: &BTreeMap<String, String>) -> Result<(), CommandError> {
    let mut text = String::from(
        "# keyward demo accounts: ROLE USERNAME PASSWORD\n# Made by `keyward demo`; delete this file to get new passwords.\n",
    );
    for person in DEMO_PEOPLE {
        if let Some(password) = passwords.get(person.username) {
            text.push_str(&format!(
                "{} {} {}\n",
                person.role.as_str(),
                person.username,
                password
            ));
        }
    }
    write_private(path, &text).map_err(|e| failed(format!("cannot write {}: {e}", path.display())))
}

/// Writes a file readable only by its owner.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())
}

/// What the demo prints once it listens.
struct Banner<'a> {
    public_url: &'a str,
    passwords: &'a BTreeMap<String, String>,
    accounts_path: &'a Path,
    dev_inbox: bool,
    /// The demo class's code, while switched on (a newcomer tries /join with it).
    class_code: Option<&'a str>,
}

impl Banner<'_> {
    /// The banner text; passwords only when `show_passwords` (a terminal).
    fn render(&self, show_passwords: bool) -> String {
        let public_url = self.public_url;
        let mut banner = format!(
            "\nkeyward demo is running at {public_url}\n\n{DEMO_SCHOOL_NAME}, {DEMO_CLASS_NAME}. Sign in as:\n\n"
        );
        for person in DEMO_PEOPLE {
            let password = if show_passwords {
                self.passwords
                    .get(person.username)
                    .map(String::as_str)
                    .unwrap_or("?")
            } else {
                "(see the file below)"
            };
            banner.push_str(&format!(
                "  {:<16} {:<14} password {}\n",
                person.role.label(),
                person.username,
                password
            ));
        }
        banner.push_str(&format!(
            "\nThe passwords are kept in {} (delete it for new ones).\n",
            self.accounts_path.display()
        ));
        if let Some(code) = self.class_code {
            banner.push_str(&format!(
                "New learners join {DEMO_CLASS_NAME} at {public_url}join with class code {code}.\n"
            ));
        }
        if self.dev_inbox {
            banner.push_str(&format!("Email is captured at {public_url}dev/mail.\n"));
        }
        banner.push_str(&format!(
            "Teachers: Class database > Reset password (one learner or the whole class);\n\
             {DEMO_CLASS_NAME} > User accounts > Show access codes > Download CSV ({} {} has\n\
             not set up her account yet: her access code is there). Class 5C is the lead\n\
             teacher's alone: the teacher cannot reach it.\n",
            DEMO_PENDING_LEARNER.0, DEMO_PENDING_LEARNER.1
        ));
        banner.push_str(
            "Forgot password? sends a reset link to staff and parents who have signed in at\n\
             least once (the others are told to ask an admin).\n\
             Press Ctrl-C to stop.\n",
        );
        banner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_passwords_are_kept_between_runs_and_the_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ACCOUNTS_FILE);
        let first = demo_passwords(&path).unwrap();
        let second = demo_passwords(&path).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), DEMO_PEOPLE.len());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("teacher demo.teacher "));
    }

    #[test]
    fn the_banner_names_the_class_code_and_shows_passwords_only_on_a_terminal() {
        let passwords: BTreeMap<String, String> =
            [("demo.amy".to_owned(), "secret-words-here".to_owned())].into();
        let banner = Banner {
            public_url: "http://127.0.0.1:8080/",
            passwords: &passwords,
            accounts_path: Path::new("/tmp/demo-accounts.txt"),
            dev_inbox: true,
            class_code: Some("K7QM2X"),
        };
        let logged = banner.render(false);
        assert!(logged.contains("http://127.0.0.1:8080/join with class code K7QM2X"));
        assert!(!logged.contains("secret-words-here"));
        assert!(banner.render(true).contains("secret-words-here"));
        let without = Banner {
            class_code: None,
            ..banner
        };
        assert!(!without.render(false).contains("class code"));
    }
}
