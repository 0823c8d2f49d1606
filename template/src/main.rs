use std::process::ExitCode;

use {{crate_name}}::{
    config::{Cli, Command, Config},
    api_doc, auth, db, healthcheck, shutdown, startup, telemetry,
};

// mimalloc keeps a free list per thread: the small values a request allocates and frees
// cost a fraction of what they cost in glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse_checked();
    let outcome = match cli.command.unwrap_or_default() {
        Command::Serve => serve(cli.config).await,
        Command::Migrate => migrate(cli.config).await,
        Command::Healthcheck => healthcheck::run(&cli.config.http).await,
        Command::Openapi => api_doc::print(),
        Command::DevToken(args) => auth::print_development_token(&cli.config, &args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let _telemetry = telemetry::init(&config)?;
    let shutdown = shutdown::signal_received()?;
    let app = startup::App::build(config).await?;
    app.run_until_stopped(shutdown).await
}

async fn migrate(config: Config) -> anyhow::Result<()> {
    let _telemetry = telemetry::init(&config)?;
    db::migrate(&config.database).await
}
