//! The `example-dating` binary: `serve` (the default), `migrate`, `routes`, `call`.

// `main`'s future nests every start-up step's; a release build (which inlines) computes its
// layout through more queries than a debug build, and once went past the default limit of
// 128 where CI, which builds for tests, could not see it. Twice the default is room; the
// start-up steps that hold large futures are boxed besides (`startup::state`).
#![recursion_limit = "256"]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use example_dating::client::{self, Signer};
use example_dating::config::Config;
use example_dating::{app, startup};
use http::Method;

#[derive(Parser)]
#[command(
    name = "example-dating",
    about = "The kotori reference app: a dating-app backend."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Create or update the schema and seed it, then exit.
    Migrate,
    /// Print the guard tree: every prefix, guard, loader and route.
    Routes,
    /// Print the OpenAPI document (what `GET /openapi.json` serves).
    Openapi,
    /// Call the running server as the configured app, signing the request for you.
    ///
    /// Example: `example-dating call POST /api/auth/sendsms phone=18922986865`. The token from
    /// the last successful login is kept in `.example-dating-token` and sent automatically.
    Call {
        /// GET, POST...
        method: String,
        /// The path, e.g. /api/me.
        path: String,
        /// Parameters as key=value.
        params: Vec<String>,
        /// Send this token instead of the saved one.
        #[arg(long)]
        token: Option<String>,
        /// Send no token.
        #[arg(long)]
        no_token: bool,
        /// The server address (default: the configured LISTEN).
        #[arg(long)]
        addr: Option<String>,
    },
    /// Fill the database with synthetic users for demos and load tests.
    DemoData {
        /// How many users.
        #[arg(long, default_value_t = 1000)]
        users: usize,
    },
    /// Manage operators of the management console.
    #[command(subcommand)]
    Operator(OperatorCommand),
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator; the password is prompted (or read from stdin when it is not a terminal).
    Add {
        /// The login name.
        #[arg(long)]
        name: String,
        /// admin or host.
        #[arg(long)]
        role: String,
        /// Comma-separated privileges, for admins (users:read, users:ban, products:read,
        /// products:write, orders:read, live:read, live:write, reports:read, reports:write,
        /// metrics:read).
        #[arg(long, value_delimiter = ',')]
        privileges: Vec<String>,
    },
    /// List the operators: name, role, privileges, whether disabled.
    List,
    /// Disable an operator: no login, and every session and token of theirs ends at once.
    Disable {
        /// The operator's login name.
        #[arg(long)]
        name: String,
    },
    /// Enable a disabled operator again.
    Enable {
        /// The operator's login name.
        #[arg(long)]
        name: String,
    },
    /// Set an operator's password (prompted, or read from stdin); every session of theirs ends.
    Password {
        /// The operator's login name.
        #[arg(long)]
        name: String,
    },
    /// Replace an admin's privileges (comma-separated; none: `--privileges ''`).
    Privileges {
        /// The operator's login name.
        #[arg(long)]
        name: String,
        /// The privileges they hold from their next request.
        #[arg(long, value_delimiter = ',')]
        privileges: Vec<String>,
    },
    /// End every session and token of an operator (a leaked token), without disabling them.
    Logout {
        /// The operator's login name.
        #[arg(long)]
        name: String,
    },
    /// Print a long-lived bearer token for an operator (a Prometheus scraping /metrics).
    Token {
        /// The operator's login name.
        #[arg(long)]
        name: String,
        /// How many days it works.
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
}

const TOKEN_FILE: &str = ".example-dating-token";

/// The server allocates small, short-lived buffers on every request (frames, parameters,
/// pages). glibc's malloc and free were a sixth of a signed send's CPU; mimalloc's per-thread
/// free lists make them a twentieth (docs/src/benchmarks.md, "mimalloc"). The library and its
/// tests keep the system allocator: this is the binary's choice.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet_logs = matches!(
        cli.command,
        Some(Command::Call { .. })
            | Some(Command::Routes)
            | Some(Command::Openapi)
            | Some(Command::Operator(_))
    );
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| if quiet_logs { "warn" } else { "info" }.into()),
        )
        .init();
    match run(cli.command.unwrap_or(Command::Serve)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("example-dating: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<(), String> {
    let config = Config::from_env()?;
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            startup::database(&config).await?;
            println!("migrated and seeded {}", config.database_url);
            Ok(())
        }
        Command::Routes | Command::Openapi => {
            let state = startup::state(Config {
                database_url: "sqlite::memory:".into(),
                redis_url: None,
                ..config
            })
            .await?;
            let app = app::build(state).map_err(|e| e.to_string())?;
            if matches!(command, Command::Routes) {
                print!("{}", app.tree());
            } else {
                let doc = app
                    .openapi(&example_dating::openapi::config())
                    .map_err(|e| e.to_string())?;
                println!("{doc:#}");
            }
            Ok(())
        }
        Command::Call {
            method,
            path,
            params,
            token,
            no_token,
            addr,
        } => call(config, &method, &path, &params, token, no_token, addr).await,
        Command::DemoData { users } => {
            let db = startup::database(&config).await?;
            // The in-process store dies with this command: the server rebuilds its hot list
            // ranking from the rows. A Redis keeps what demo-data puts there. Every server
            // loads the places (its geo index) from the rows when it starts: one already
            // running shows the new people's places after a restart.
            let store = match config.redis_url {
                Some(_) => Some(startup::store(&config).await?),
                None => None,
            };
            let started = std::time::Instant::now();
            let n = example_dating::demo::fill(&db, store.as_deref(), users).await?;
            println!(
                "created {n} demo users in {:.1} s ({})",
                started.elapsed().as_secs_f64(),
                config.database_url
            );
            Ok(())
        }
        Command::Operator(OperatorCommand::Add {
            name,
            role,
            privileges,
        }) => {
            let password = read_password()?;
            let db = startup::database(&config).await?;
            let op = example_dating::manage::roster::add(&db, &name, &role, &privileges, &password)
                .await?;
            println!(
                "operator {} added: id {}, role {}, privileges [{}]",
                op.name, op.id, op.role, op.privileges
            );
            Ok(())
        }
        Command::Operator(OperatorCommand::List) => {
            let db = startup::database(&config).await?;
            for op in example_dating::manage::roster::list(&db).await? {
                let state = if op.disabled { "disabled" } else { "enabled" };
                println!("{}\t{}\t{}\t[{}]", op.name, op.role, state, op.privileges);
            }
            Ok(())
        }
        Command::Operator(
            change @ (OperatorCommand::Disable { .. }
            | OperatorCommand::Enable { .. }
            | OperatorCommand::Password { .. }
            | OperatorCommand::Privileges { .. }
            | OperatorCommand::Logout { .. }),
        ) => {
            use example_dating::manage::roster;
            let db = startup::database(&config).await?;
            let (op, done) = match change {
                OperatorCommand::Disable { name } => (
                    roster::disable(&db, &name).await?,
                    "disabled; every session ended",
                ),
                OperatorCommand::Enable { name } => (roster::enable(&db, &name).await?, "enabled"),
                OperatorCommand::Password { name } => {
                    let password = read_password()?;
                    (
                        roster::set_password(&db, &name, &password).await?,
                        "has a new password; every session ended",
                    )
                }
                OperatorCommand::Privileges { name, privileges } => {
                    let privileges: Vec<String> =
                        privileges.into_iter().filter(|p| !p.is_empty()).collect();
                    (
                        roster::set_privileges(&db, &name, &privileges).await?,
                        "has new privileges",
                    )
                }
                OperatorCommand::Logout { name } => (
                    roster::end_sessions(&db, &name).await?,
                    "logged out: every session ended",
                ),
                _ => unreachable!("add, list and token are matched above"),
            };
            println!("operator {} {done} [{}]", op.name, op.privileges);
            Ok(())
        }
        Command::Operator(OperatorCommand::Token { name, days }) => {
            let db = startup::database(&config).await?;
            let (token, expire_at) =
                example_dating::manage::roster::issue_token(&db, &name, days).await?;
            eprintln!("valid until {}", example_dating::clock::format(expire_at));
            println!("{token}");
            Ok(())
        }
    }
}

/// The password: prompted twice without echo on a terminal, else the first line of stdin.
fn read_password() -> Result<String, String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ").map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("again: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the passwords differ".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let listen = config.listen;
    let limits = config.server.clone();
    let dev = config.dev_app.then(|| config.apps[0].clone());
    // Before the tree is built: kotori takes its tracer and meter from the global providers.
    let telemetry = example_dating::telemetry::init_from_env()?;
    let state = startup::state(config).await?;
    let app = app::build(state).map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("LISTEN={listen}: {e}"))?;
    println!(
        "example-dating serving on http://{listen}  (GET /healthz, /readyz; the API under /api)"
    );
    if let Some(app) = dev {
        println!();
        println!(
            "!! No app is configured: the DEVELOPMENT app is active (appkey={} appsecret={}, scheme v1),",
            app.appkey, app.secret
        );
        println!(
            "!! and SMS codes are echoed in responses. Configure [[apps]] before exposing this server."
        );
        println!();
        println!("Try it (the call subcommand signs requests for you):");
        println!(
            "  cargo run -q -p example-dating -- call POST /api/auth/sendsms phone=18922986865"
        );
        println!(
            "  cargo run -q -p example-dating -- call POST /api/auth/login phone=18922986865 code=<the code>"
        );
        println!("  cargo run -q -p example-dating -- call POST /api/auth/logout");
    }
    let served = kotori::serve(listener, app)
        .max_connections(limits.max_connections)
        .write_timeout(limits.write_timeout)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string());
    if let Some(telemetry) = telemetry {
        // Flushing blocks on the exporters' own threads: not on an async one.
        let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    }
    served
}

/// Ctrl-C, or SIGTERM (what systemd and Kubernetes send): either starts a graceful shutdown.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

async fn call(
    config: Config,
    method: &str,
    path: &str,
    raw: &[String],
    token: Option<String>,
    no_token: bool,
    addr: Option<String>,
) -> Result<(), String> {
    let method: Method = method
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| format!("`{method}` is not an HTTP method"))?;
    let mut params = Vec::new();
    for pair in raw {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("`{pair}`: parameters are key=value"))?;
        params.push((k.to_owned(), v.to_owned()));
    }
    let token_file = PathBuf::from(TOKEN_FILE);
    let token = match (no_token, token) {
        (true, _) => None,
        (false, Some(t)) => Some(t),
        (false, None) => std::fs::read_to_string(&token_file)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
    };
    let app = if path.starts_with("/pay") {
        config.payment_apps[0].clone()
    } else {
        config.apps[0].clone()
    };
    let signed = Signer::new(app).sign(&method, path, &params, token.as_deref());
    let addr = addr.unwrap_or_else(|| config.listen.to_string());
    let (status, body) = client::send(&addr, client::request(method, path, &signed)).await?;
    let pretty = serde_json::from_str::<serde_json::Value>(&body)
        .map(|v| {
            if path == "/api/auth/login" {
                if let Some(t) = v["data"]["token"].as_str() {
                    let _ = std::fs::write(&token_file, t);
                }
            }
            serde_json::to_string_pretty(&v).unwrap_or(body.clone())
        })
        .unwrap_or(body);
    println!("HTTP {status}\n{pretty}");
    Ok(())
}
