//! The `keyward` binary: parses the command line, loads settings, sets up
//! logging, and runs one command. It holds no business rules; every command
//! calls the core. Errors end as one readable line and a non-zero exit.

mod cli;
mod commands;
mod config;
mod telemetry;

use clap::Parser;
use std::process::ExitCode;

use cli::{AdminCommand, Cli, Command};

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
            eprintln!("keyward: {err:#}");
            ExitCode::from(err.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), commands::CommandError> {
    let settings = config::load(cli.config.as_deref()).map_err(commands::CommandError::Config)?;
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
    }
}
