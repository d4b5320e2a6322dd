//! `customers`: serve (default), migrate, store create and update, citus plan and distribute.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use customers_persistence::Placement;
use customers_server::config::{
    CitusCommand, Cli, Command, GlobalArgs, LogFormat, ServeArgs, StoreCommand,
};
use customers_server::run::{
    ServeOptions, create_store, describe, open_database, set_max_order_minor, start,
};
use tracing_subscriber::EnvFilter;

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn serve(global: &GlobalArgs, args: &ServeArgs) -> Result<(), String> {
    let options = ServeOptions {
        database: global.database(),
        listen: args.listen.clone(),
        owner_email: args.owner_email.clone(),
        workers: args.workers,
        request_timeout: Duration::from_millis(args.request_timeout_ms.max(1)),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        drain: Duration::from_secs(args.drain_secs),
        limits: args.limits(),
        trusted_proxies: args.trusted_proxies.clone(),
        login_max_failures_per_address: args.login_max_failures_per_address.max(1),
        hashing: args.hashing(),
    };
    let server = start(options).await.map_err(|e| e.to_string())?;
    let base = server.base_url();
    if let Some(first) = &server.first_start {
        println!(
            "Created store {} with owner {}.",
            first.store_id, first.owner_email
        );
        println!("Owner token (shown only this once): {}", first.token);
        println!(
            "Use it as: curl -H \"Authorization: Bearer {}\" {base}/customers",
            first.token
        );
    }
    tracing::info!(address = %server.address, "serving");
    server.wait().await.map_err(|e| e.to_string())
}

async fn run(cli: Cli) -> Result<(), String> {
    let global = &cli.global;
    match &cli.command {
        None | Some(Command::Serve) => serve(global, &cli.serve).await,
        Some(Command::Migrate) => {
            open_database(&global.database())
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Some(Command::Store(StoreCommand::Create(args))) => {
            let database = open_database(&global.database())
                .await
                .map_err(|e| e.to_string())?;
            let outcome = create_store(
                &database,
                &args.settings(),
                &args.owner_email,
                args.owner_password.as_deref(),
            )
            .await
            .map_err(describe)?;
            database.close();
            let json = serde_json::json!({
                "storeId": outcome.store.id.to_string(),
                "ownerUserId": outcome.owner.id.to_string(),
                "token": outcome.token,
            });
            println!("{json}");
            Ok(())
        }
        Some(Command::Citus(command)) => {
            let database = open_database(&global.database())
                .await
                .map_err(|e| e.to_string())?;
            let steps = match command {
                CitusCommand::Plan => database
                    .citus_plan()
                    .await
                    .map(|plan| plan.into_iter().map(|step| (step, None)).collect()),
                CitusCommand::Distribute => database.citus_distribute().await.map(|done| {
                    done.into_iter()
                        .map(|(step, applied)| (step, Some(applied)))
                        .collect::<Vec<_>>()
                }),
            };
            database.close();
            for (step, applied) in steps.map_err(|e| e.to_string())? {
                let mut line = serde_json::json!({
                    "table": step.table,
                    "placement": match step.placement {
                        Placement::Local => "local",
                        Placement::Reference => "reference",
                        Placement::Distributed { .. } => "distributed",
                    },
                    "sql": step.sql(),
                });
                if let Some(applied) = applied {
                    line["applied"] = applied.into();
                }
                println!("{line}");
            }
            Ok(())
        }
        Some(Command::Store(StoreCommand::Update(args))) => {
            let database = open_database(&global.database())
                .await
                .map_err(|e| e.to_string())?;
            let updated =
                set_max_order_minor(&database, &args.store_id, args.max_order_minor).await;
            database.close();
            updated?;
            let json = serde_json::json!({
                "storeId": args.store_id,
                "maxOrderMinor": args.max_order_minor,
            });
            println!("{json}");
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
