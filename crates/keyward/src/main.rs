//! The `keyward` binary: parses the command line, loads settings, sets up
//! logging, and runs one command. It holds no business rules; every command
//! calls the core. Errors end as one readable line and a non-zero exit.

mod cli;
mod commands;
mod config;
mod telemetry;

use clap::Parser;
use std::process::ExitCode;

use cli::{AdminCommand, Cli, Command, KeysCommand, SchoolCommand, TokenCommand, UserCommand};
use keyward_core::settings::Settings;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("keyward: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("keyward: {}", one_line(&err.to_string()));
            ExitCode::from(err.exit_code())
        }
    }
}

/// Errors are one line (R-CLI-1), even when a cause's text has several.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn run(cli: Cli) -> Result<(), commands::CommandError> {
    let settings = config::load(cli.config_file()).map_err(commands::CommandError::Config)?;
    if !matches!(cli.command, Command::CheckConfig) {
        telemetry::init(cli.log_format);
    }
    match cli.command {
        Command::Serve => commands::serve::run(settings).await,
        Command::Demo => commands::demo::run(settings).await,
        Command::Migrate => commands::migrate::run(settings).await,
        Command::CheckConfig => commands::check_config::run(&settings),
        Command::Admin {
            command: AdminCommand::Create { username, email },
        } => commands::admin::create(settings, &username, email.as_deref()).await,
        Command::School {
            command: SchoolCommand::Create { name },
        } => commands::user::create_school(settings, &name).await,
        Command::User {
            command:
                UserCommand::Create {
                    school,
                    role,
                    first_name,
                    last_name,
                    classes,
                    email,
                },
        } => {
            let request = commands::user::Request {
                school,
                role,
                first_name,
                last_name,
                classes,
                email,
            };
            commands::user::create(settings, request).await
        }
        Command::Import { school, file } => commands::import::run(settings, &school, &file).await,
        Command::Export {
            school,
            class,
            output,
        } => commands::export::run(settings, &school, class.as_deref(), output.as_deref()).await,
        Command::Keys {
            command: KeysCommand::Rotate,
        } => commands::keys::rotate(settings).await,
        Command::Token { command } => token(settings, command).await,
    }
}

async fn token(settings: Settings, command: TokenCommand) -> Result<(), commands::CommandError> {
    match command {
        TokenCommand::Create {
            owner,
            name,
            permissions,
            school,
            expires_in,
        } => {
            let request = commands::token::CreateRequest {
                owner,
                name,
                permissions,
                school,
                expires_in,
            };
            commands::token::create(settings, request).await
        }
        TokenCommand::List { owner } => commands::token::list(settings, owner.as_deref()).await,
        TokenCommand::Revoke { id } => commands::token::revoke(settings, &id).await,
    }
}
