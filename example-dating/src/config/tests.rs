//! Loading the configuration: defaults, the file, the environment over both, and the bounds
//! every number is held to.

use super::Config;

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn nothing_configured_means_sqlite_memory_store_and_the_development_apps() {
    let c = Config::load(None, no_env).unwrap();
    assert!(c.dev_app && c.sms.echo_code);
    assert!(c.database_url.starts_with("sqlite:"));
    assert!(c.redis_url.is_none());
    assert!(c.client_app("432ABZ").is_some());
    assert!(c.payment_app("PAYDEV").is_some());
    assert!(
        c.client_app("PAYDEV").is_none(),
        "a payment app is not a client app"
    );
    assert_eq!((c.window_secs, c.user_token_secs), (60, 7 * 86_400));
}

#[test]
fn the_environment_overrides_the_file() {
    let toml =
        "listen = \"127.0.0.1:1\"\n[[apps]]\nappkey = \"K\"\nsecret = \"S\"\nscheme = \"v2\"\n";
    let env = |k: &str| (k == "LISTEN").then(|| "127.0.0.1:2".to_owned());
    let c = Config::load(Some(toml), env).unwrap();
    assert_eq!(c.listen.port(), 2);
    assert!(!c.dev_app && !c.sms.echo_code);
    assert!(
        c.client_app("432ABZ").is_none(),
        "the development app is gone once apps are configured"
    );
}

#[test]
fn bad_configuration_names_the_key() {
    let cases = [
        ("listn = \"x\"", "listn"),
        ("listen = \"nowhere\"", "listen"),
        ("database_url = \"ftp://x\"", "database_url"),
        ("[signing]\nwindow_secs = 0", "window_secs"),
        (
            "[[apps]]\nappkey = \"K\"\nsecret = \"S\"\nscheme = \"v3\"",
            "v3",
        ),
        (
            "[[apps]]\nappkey = \"K\"\nsecret = \"S\"\nscheme = \"v1\"\n[[apps]]\nappkey = \"K\"\nsecret = \"T\"\nscheme = \"v1\"",
            "twice",
        ),
    ];
    for (toml, key) in cases {
        let err = Config::load(Some(toml), no_env).unwrap_err();
        assert!(err.contains(key), "{toml}: {err}");
    }
    let err = Config::load(None, |k| {
        (k == "SIGNING_WINDOW_SECS").then(|| "soon".into())
    })
    .unwrap_err();
    assert!(err.contains("SIGNING_WINDOW_SECS"), "{err}");
}

#[test]
fn redis_connections_default_to_the_cores_and_are_bounded() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    assert_eq!(Config::load(None, no_env).unwrap().redis_connections, cores);
    let one = |k: &str| (k == "REDIS_CONNECTIONS").then(|| "1".to_owned());
    assert_eq!(Config::load(None, one).unwrap().redis_connections, 1);
    let file = Config::load(Some("redis_connections = 3"), no_env).unwrap();
    assert_eq!(file.redis_connections, 3);
    for bad in ["0", "65", "four"] {
        let env = |k: &str| (k == "REDIS_CONNECTIONS").then(|| bad.to_owned());
        let err = Config::load(None, env).unwrap_err();
        assert!(err.contains("REDIS_CONNECTIONS"), "{bad}: {err}");
    }
}

#[test]
fn dependency_timeouts_are_configurable_and_bounded() {
    let c = Config::load(None, no_env).unwrap();
    assert_eq!(c.redis_timeout.as_millis(), 2000);
    assert_eq!(c.database_timeout.as_millis(), 5000);
    let env = |k: &str| (k == "REDIS_TIMEOUT_MS").then(|| "250".to_owned());
    assert_eq!(
        Config::load(None, env).unwrap().redis_timeout.as_millis(),
        250
    );
    let toml = "database_timeout_ms = 800";
    assert_eq!(
        Config::load(Some(toml), no_env)
            .unwrap()
            .database_timeout
            .as_millis(),
        800
    );
    let bad = |k: &str| (k == "DATABASE_TIMEOUT_MS").then(|| "0".to_owned());
    assert!(
        Config::load(None, bad)
            .unwrap_err()
            .contains("DATABASE_TIMEOUT_MS")
    );
}
