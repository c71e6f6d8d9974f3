//! Configuration: a TOML file, then environment variables over it, then checks that name the
//! offending key. With nothing configured the server runs on SQLite and the in-process store,
//! with the development apps (loudly).

use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;

use crate::client_ip::TrustedProxies;
use crate::signing::Scheme;

/// The legacy development client app (docs/src/dating/api/operations.md), used only while no client app is configured.
pub const DEV_APP: (&str, &str) = ("432ABZ", "1AE32B09224");
/// The URL schemes `REDIS_URL` may use: one server, or a Redis Cluster (any node's address,
/// more with `?node=host:port`; the client discovers the rest).
pub const REDIS_SCHEMES: [&str; 4] = [
    "redis://",
    "rediss://",
    "redis-cluster://",
    "rediss-cluster://",
];
/// The development payment provider (docs/src/dating/api/vip.md), used only while none is configured.
pub const DEV_PAYMENT_APP: (&str, &str) = ("PAYDEV", "paydev-secret");

/// The whole configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen (`LISTEN`).
    pub listen: SocketAddr,
    /// The database (`DATABASE_URL`): SQLite, MySQL/MariaDB or PostgreSQL.
    pub database_url: String,
    /// Redis (`REDIS_URL`); `None` runs the in-process store.
    pub redis_url: Option<String>,
    /// Prefix of every key this app writes to the store (`REDIS_PREFIX`).
    pub store_prefix: String,
    /// How long one Redis command may take before the request fails with 50301
    /// (`REDIS_TIMEOUT_MS`, `redis_timeout_ms`; 2000 by default).
    pub redis_timeout: std::time::Duration,
    /// Connections to Redis (`REDIS_CONNECTIONS`, `redis_connections`; by default one per core
    /// this process may run on, at most 8). Fewer connections carry more commands per write:
    /// fred sends every command queued on a connection in one write.
    pub redis_connections: usize,
    /// How long a request waits for a database connection before 50301, and on MariaDB and
    /// PostgreSQL for a lock (`DATABASE_TIMEOUT_MS`, `database_timeout_ms`; 5000 by default).
    pub database_timeout: std::time::Duration,
    /// Client apps allowed to call `/api`.
    pub apps: Vec<AppConfig>,
    /// Payment providers allowed to call `/pay/notify`.
    pub payment_apps: Vec<AppConfig>,
    /// Whether the development client app is in use (no client app configured).
    pub dev_app: bool,
    /// SMS settings.
    pub sms: SmsConfig,
    /// Signature window, in seconds either side of server time.
    pub window_secs: u64,
    /// User token lifetime, in seconds.
    pub user_token_secs: u64,
    /// Operator token lifetime, in seconds.
    pub operator_token_secs: u64,
    /// RTMP push settings.
    pub push: PushConfig,
    /// Proxies whose `X-Forwarded-For` / `X-Real-IP` name the client (`TRUSTED_PROXIES`, or
    /// `network.trusted_proxies`); none by default.
    pub trusted_proxies: TrustedProxies,
    /// Connection limits of the server (`[server]`).
    pub server: ServerConfig,
}

/// Connection limits (`[server]`).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Connections open at once (`MAX_CONNECTIONS`; 10,000 by default): beyond, new ones wait
    /// in the listen backlog.
    pub max_connections: usize,
    /// How long a write may wait for a client to read before its connection is closed
    /// (`WRITE_TIMEOUT_SECS`; 10 by default).
    pub write_timeout: std::time::Duration,
    /// Real-time connections (WebSocket and SSE) open at once from one client address, across
    /// instances (`SOCKETS_PER_ADDRESS`; 50 by default): past it the oldest is closed.
    pub sockets_per_address: usize,
}

/// One app: its key, its secret and the scheme it signs with.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// The public key sent as `appkey`.
    pub appkey: String,
    /// The shared secret; never in code, never logged.
    pub secret: String,
    /// `v1` (legacy MD5) or `v2` (HMAC-SHA256).
    pub scheme: Scheme,
    /// A disabled app is refused like an unknown one (40101).
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// SMS settings.
#[derive(Clone, Debug)]
pub struct SmsConfig {
    /// Return the code in the `sendsms` response (development only).
    pub echo_code: bool,
    /// How long a code is valid, in seconds.
    pub code_ttl_secs: u64,
    /// Sends allowed per client address and day (`SMS_PER_CLIENT_DAILY`; 20 by default).
    pub per_client_daily: i64,
    /// The SMS gateway (`SMS_WEBHOOK_URL`, `sms.webhook_url`); `None` logs instead (with the
    /// code only for the development app).
    pub webhook_url: Option<String>,
}

/// RTMP push URL settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushConfig {
    /// The push domain.
    pub domain: String,
    /// The key that signs push URLs.
    pub key: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    database_url: Option<String>,
    redis_url: Option<String>,
    store_prefix: Option<String>,
    redis_timeout_ms: Option<u64>,
    redis_connections: Option<u64>,
    database_timeout_ms: Option<u64>,
    #[serde(default)]
    apps: Vec<AppConfig>,
    #[serde(default)]
    payment_apps: Vec<AppConfig>,
    #[serde(default)]
    sms: SmsFile,
    #[serde(default)]
    signing: SigningFile,
    #[serde(default)]
    tokens: TokensFile,
    push: Option<PushConfig>,
    #[serde(default)]
    network: NetworkFile,
    #[serde(default)]
    server: ServerFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    max_connections: Option<usize>,
    write_timeout_secs: Option<u64>,
    sockets_per_address: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkFile {
    #[serde(default)]
    trusted_proxies: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmsFile {
    echo_code: Option<bool>,
    webhook_url: Option<String>,
    code_ttl_secs: Option<u64>,
    per_client_daily: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningFile {
    window_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    user_ttl_days: Option<u64>,
    operator_ttl_hours: Option<u64>,
}

fn yes() -> bool {
    true
}

impl Config {
    /// Loads the configuration: the TOML file at `EXAMPLE_DATING_CONFIG`, else
    /// `example-dating.toml` if present, else defaults; then the environment.
    pub fn from_env() -> Result<Config, String> {
        let path = std::env::var("EXAMPLE_DATING_CONFIG").ok();
        let text = match &path {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| format!("EXAMPLE_DATING_CONFIG={path}: {e}"))?,
            ),
            None => std::fs::read_to_string(Path::new("example-dating.toml")).ok(),
        };
        Config::load(text.as_deref(), |key| std::env::var(key).ok())
    }

    /// Parses `toml` (if any), applies `env` overrides and checks the result.
    pub fn load(
        toml_text: Option<&str>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let file: File = match toml_text {
            Some(text) => toml::from_str(text).map_err(|e| format!("configuration file: {e}"))?,
            None => File::default(),
        };
        let listen_text = env("LISTEN")
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen = listen_text.parse().map_err(|_| {
            format!("listen / LISTEN: `{listen_text}` is not an address like 127.0.0.1:8080")
        })?;
        let database_url = env("DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| "sqlite://example-dating.sqlite?mode=rwc".into());
        if !["sqlite:", "mysql:", "mariadb:", "postgres:", "postgresql:"]
            .iter()
            .any(|s| database_url.starts_with(s))
        {
            return Err(format!(
                "database_url / DATABASE_URL: `{database_url}` is not a sqlite:, mysql: or postgres: URL"
            ));
        }
        let redis_url = env("REDIS_URL")
            .or(file.redis_url)
            .filter(|u| !u.is_empty());
        if let Some(url) = &redis_url {
            if !REDIS_SCHEMES.iter().any(|s| url.starts_with(s)) {
                return Err(format!(
                    "redis_url / REDIS_URL: `{url}` is not a redis://, rediss://, redis-cluster:// \
                     or rediss-cluster:// URL"
                ));
            }
        }
        let dev_app = file.apps.is_empty();
        let apps = if dev_app {
            vec![dev(DEV_APP)]
        } else {
            file.apps
        };
        let payment_apps = if file.payment_apps.is_empty() {
            vec![dev(DEV_PAYMENT_APP)]
        } else {
            file.payment_apps
        };
        let mut seen = std::collections::HashSet::new();
        for (list, app) in apps
            .iter()
            .map(|a| ("apps", a))
            .chain(payment_apps.iter().map(|a| ("payment_apps", a)))
        {
            if app.appkey.is_empty() || app.secret.is_empty() {
                return Err(format!(
                    "{list}: every app needs a non-empty appkey and secret"
                ));
            }
            if !seen.insert(app.appkey.clone()) {
                return Err(format!(
                    "{list}: appkey `{}` is configured twice",
                    app.appkey
                ));
            }
        }
        let echo_code = match env("SMS_ECHO_CODE") {
            Some(v) => v
                .parse()
                .map_err(|_| format!("SMS_ECHO_CODE: `{v}` is not true or false"))?,
            None => file.sms.echo_code.unwrap_or(dev_app),
        };
        let window_secs = match env("SIGNING_WINDOW_SECS") {
            Some(v) => v
                .parse()
                .map_err(|_| format!("SIGNING_WINDOW_SECS: `{v}` is not a number of seconds"))?,
            None => file.signing.window_secs.unwrap_or(60),
        };
        if window_secs == 0 {
            return Err("signing.window_secs: must be at least 1".into());
        }
        let code_ttl_secs = file.sms.code_ttl_secs.unwrap_or(300);
        if code_ttl_secs == 0 {
            return Err("sms.code_ttl_secs: must be at least 1".into());
        }
        let per_client_daily = match env("SMS_PER_CLIENT_DAILY") {
            Some(v) => v
                .parse()
                .map_err(|_| format!("SMS_PER_CLIENT_DAILY: `{v}` is not a number"))?,
            None => file.sms.per_client_daily.unwrap_or(20),
        };
        if per_client_daily < 1 {
            return Err("sms.per_client_daily: must be at least 1".into());
        }
        let trusted_proxies = match env("TRUSTED_PROXIES") {
            Some(list) => TrustedProxies::parse(list.split(',')),
            None => TrustedProxies::parse(file.network.trusted_proxies.iter().map(String::as_str)),
        }
        .map_err(|e| format!("network.trusted_proxies / TRUSTED_PROXIES: {e}"))?;
        // A whole number: the environment's, else the file's, else `default`; within `range`.
        let number = |key: &str,
                      file: Option<u64>,
                      default: u64,
                      range: std::ops::RangeInclusive<u64>|
         -> Result<u64, String> {
            let n = match env(key) {
                Some(v) => v
                    .parse::<u64>()
                    .map_err(|_| format!("{key}: `{v}` is not a number"))?,
                None => file.unwrap_or(default),
            };
            if !range.contains(&n) {
                return Err(format!(
                    "{key}: {n} is outside {} to {}",
                    range.start(),
                    range.end()
                ));
            }
            Ok(n)
        };
        let millis = |key: &str, file: Option<u64>, default: u64| {
            number(key, file, default, 10..=60_000).map(std::time::Duration::from_millis)
        };
        let redis_timeout = millis("REDIS_TIMEOUT_MS", file.redis_timeout_ms, 2000)?;
        let database_timeout = millis("DATABASE_TIMEOUT_MS", file.database_timeout_ms, 5000)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let redis_connections = number(
            "REDIS_CONNECTIONS",
            file.redis_connections,
            cores as u64,
            1..=64,
        )? as usize;
        let server = ServerConfig {
            max_connections: number(
                "MAX_CONNECTIONS",
                file.server.max_connections.map(|n| n as u64),
                10_000,
                1..=1_000_000,
            )? as usize,
            write_timeout: std::time::Duration::from_secs(number(
                "WRITE_TIMEOUT_SECS",
                file.server.write_timeout_secs,
                10,
                1..=300,
            )?),
            sockets_per_address: number(
                "SOCKETS_PER_ADDRESS",
                file.server.sockets_per_address.map(|n| n as u64),
                50,
                1..=100_000,
            )? as usize,
        };
        let store_prefix = env("REDIS_PREFIX")
            .or(file.store_prefix)
            .unwrap_or_else(|| "dating:".into());
        Ok(Config {
            listen,
            database_url,
            redis_url,
            store_prefix,
            redis_timeout,
            redis_connections,
            database_timeout,
            apps,
            payment_apps,
            dev_app,
            sms: SmsConfig {
                echo_code,
                code_ttl_secs,
                per_client_daily,
                webhook_url: env("SMS_WEBHOOK_URL")
                    .or(file.sms.webhook_url)
                    .filter(|u| !u.is_empty()),
            },
            window_secs,
            user_token_secs: file.tokens.user_ttl_days.unwrap_or(7) * 86_400,
            operator_token_secs: file.tokens.operator_ttl_hours.unwrap_or(12) * 3600,
            push: file.push.unwrap_or_else(|| PushConfig {
                domain: "push.example.invalid".into(),
                key: "dev-push-key".into(),
            }),
            trusted_proxies,
            server,
        })
    }

    /// The client app for `appkey`, if configured and enabled.
    pub fn client_app(&self, appkey: &str) -> Option<&AppConfig> {
        self.apps.iter().find(|a| a.enabled && a.appkey == appkey)
    }

    /// The payment provider for `appkey`, if configured and enabled.
    pub fn payment_app(&self, appkey: &str) -> Option<&AppConfig> {
        self.payment_apps
            .iter()
            .find(|a| a.enabled && a.appkey == appkey)
    }
}

fn dev((appkey, secret): (&str, &str)) -> AppConfig {
    AppConfig {
        appkey: appkey.into(),
        secret: secret.into(),
        scheme: Scheme::V1,
        enabled: true,
    }
}

#[cfg(test)]
mod tests;
