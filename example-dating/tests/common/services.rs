//! Real services for the tests that need them: their URLs from the environment (skipped
//! without), a scratch database per run, a Redis of a test's own, free ports.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The value of a service URL variable, or `None` after saying that `test` is skipped.
pub fn service_url(name: &str, test: &str) -> Option<String> {
    let value = std::env::var(name).ok();
    if value.is_none() {
        eprintln!("skipped `{test}`: {name} is not set");
    }
    value
}

/// The variable naming the MariaDB server the tests may use.
pub const MARIADB: &str = "KOTORI_TEST_MYSQL_URL";
/// The variable naming the PostgreSQL server the tests may use.
pub const POSTGRES: &str = "KOTORI_TEST_POSTGRES_URL";

/// [`on_fresh_database`] on the server that `variable` names — or, without the variable, the
/// test `test` says it was skipped and passes.
pub async fn on_database_server<F, Fut>(variable: &str, test: &str, exercise: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if let Some(server) = service_url(variable, test) {
        on_fresh_database(&server, exercise).await;
    }
}

/// Creates a database named for this run on the server at `server_url`, runs `exercise` with
/// its URL, then drops it (also when the exercise fails).
pub async fn on_fresh_database<F, Fut>(server_url: &str, exercise: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use sea_orm::{ConnectionTrait, Database};
    let name = format!(
        "kotori_test_{}_{}",
        std::process::id(),
        example_dating::random::hex_token(4)
    );
    let server = Database::connect(server_url)
        .await
        .expect("the database server is reachable");
    server
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = format!("{}/{name}", server_url.trim_end_matches('/'));
    // Spawned, so that a failure comes back as a value and the database is still dropped.
    let result = tokio::spawn(exercise(url)).await;
    // Postgres refuses to drop a database with open connections: the app's pool closed with
    // its runtime objects when the task ended.
    let drop = if server_url.starts_with("postgres") {
        format!("DROP DATABASE {name} WITH (FORCE)")
    } else {
        format!("DROP DATABASE {name}")
    };
    server.execute_unprepared(&drop).await.unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic.into_panic());
    }
}

/// A redis-server of this test's own, on a free port.
pub struct OwnRedis {
    pub port: u16,
    child: Child,
}

impl OwnRedis {
    pub fn start(port: u16) -> std::io::Result<OwnRedis> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        // Wait (bounded) until it accepts connections.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline {
                return Err(std::io::Error::other(
                    "redis-server did not start listening",
                ));
            }
            std::thread::yield_now();
        }
        Ok(OwnRedis { port, child })
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
