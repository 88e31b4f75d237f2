//! The command line (R-CLI-1), declared with clap.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "keyward",
    version,
    about = "Accounts and password recovery for schools and organisations"
)]
pub struct Cli {
    /// A TOML settings file; environment variables KEYWARD_<SECTION>__<KEY> override it.
    /// An empty value (such as `KEYWARD_CONFIG=`) means no file.
    #[arg(long, global = true, env = "KEYWARD_CONFIG", value_name = "FILE", value_parser = config_path)]
    pub config: Option<PathBuf>,

    /// How log lines are written (to standard error).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The settings file, if one was named.
    pub fn config_file(&self) -> Option<&std::path::Path> {
        self.config
            .as_deref()
            .filter(|path| !path.as_os_str().is_empty())
    }
}

/// Accepts any path, including an empty one (clap's own path parser refuses
/// an empty value, which made `KEYWARD_CONFIG=` fail before anything ran).
fn config_path(value: &str) -> Result<PathBuf, std::convert::Infallible> {
    Ok(PathBuf::from(value))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server.
    Serve,
    /// Run the server with a demo school, classes, staff and learners, printing how to sign in as each.
    Demo,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage the sealing keys (the AES-256-GCM keys of secrets staff may show again).
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Print the effective settings (secrets masked) and exit; fails on an invalid setting.
    CheckConfig,
    /// Manage schools.
    School {
        #[command(subcommand)]
        command: SchoolCommand,
    },
    /// Manage people.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens (`Authorization: Bearer kw_…` on the JSON API).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import learners from a roster CSV (first_name, last_name, class, optional username,
    /// email) into a school: all or none. Their codes are written to standard output as CSV.
    Import {
        /// The id of the school the learners join.
        #[arg(long, value_name = "SCHOOL_ID")]
        school: String,
        /// The roster (UTF-8 CSV with a header row).
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
    },
    /// Export the learners' credentials of a school or one of its classes as CSV (usernames,
    /// passwords when kept, access codes, parent access codes), to standard output or a file.
    Export {
        /// The id of the school.
        #[arg(long, value_name = "SCHOOL_ID")]
        school: String,
        /// Only this class of the school.
        #[arg(long, value_name = "CLASS_ID")]
        class: Option<String>,
        /// Write the CSV to this file (only its owner may read it) instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum SchoolCommand {
    /// Create a school; prints its id.
    Create {
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a pending user in a school; prints their access code (and a
    /// learner's parent access code) for you to hand out.
    Create {
        /// The id of the school.
        #[arg(long, value_name = "SCHOOL_ID")]
        school: String,
        /// lead_teacher, teacher, learner or parent.
        #[arg(long)]
        role: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        /// A class the learner joins or the teacher teaches (repeatable).
        #[arg(long = "class", value_name = "CLASS_ID")]
        classes: Vec<String>,
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token for an account, with some of the permissions it holds;
    /// prints the secret once, alone on a line of standard output.
    Create {
        /// The account the token acts as.
        #[arg(long = "for", value_name = "USERNAME")]
        owner: String,
        /// A name to recognise it by.
        #[arg(long)]
        name: String,
        /// A permission (`users.view`, …) the account holds (repeatable).
        #[arg(long = "permission", value_name = "PERMISSION", required = true)]
        permissions: Vec<String>,
        /// Platform admins' tokens only: the one school the token acts in.
        #[arg(long, value_name = "SCHOOL_ID")]
        school: Option<String>,
        /// Days until it expires, for example `90d` (at most 365; default 90).
        #[arg(long, value_name = "DAYS")]
        expires_in: Option<String>,
    },
    /// List tokens (never their secrets): everybody's, or one account's.
    List {
        #[arg(long = "for", value_name = "USERNAME")]
        owner: Option<String>,
    },
    /// Revoke a token by its id; calls with it are refused at once.
    Revoke {
        #[arg(value_name = "TOKEN_ID")]
        id: String,
    },
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a platform admin. The password is read from standard input.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Add a sealing key to the key file and re-seal every stored secret under it.
    Rotate,
}
