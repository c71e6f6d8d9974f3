//! The OTLP exporters' HTTP client: plain HTTP or HTTPS to the endpoint, with the TLS settings
//! of the OpenTelemetry specification's variables (`OTEL_EXPORTER_OTLP_CERTIFICATE`,
//! `…_CLIENT_CERTIFICATE`, `…_CLIENT_KEY`, and `…_TIMEOUT`, each also per signal:
//! `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE` wins over `OTEL_EXPORTER_OTLP_CERTIFICATE` for spans).
//!
//! The exporter's own client would be reqwest's with its default TLS, which brings a second
//! crypto library (aws-lc, built with cmake) and reads none of these variables; this one uses
//! rustls with ring, as kotori's HTTPS does.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The client of one signal (`TRACES` or `METRICS`).
pub(super) fn for_signal(signal: &str) -> Result<reqwest::blocking::Client, String> {
    let tls = tls(signal)?;
    let timeout = timeout(signal)?;
    // reqwest's blocking client runs a runtime of its own: building it on an async thread
    // would panic, so it is built on a thread of its own (as the exporter builds its default).
    std::thread::spawn(move || {
        reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(timeout)
            .build()
            .map_err(|e| format!("the OTLP exporter's HTTP client: {e}"))
    })
    .join()
    .map_err(|_| "the OTLP exporter's HTTP client: building it panicked".to_owned())?
}

/// The value of `OTEL_EXPORTER_OTLP_{signal}_{what}`, else of `OTEL_EXPORTER_OTLP_{what}`,
/// with the name of the variable it came from; unset and empty are alike.
fn var(signal: &str, what: &str) -> Option<(String, String)> {
    var_in(|name| std::env::var(name).ok(), signal, what)
}

/// [`var`] in the variables `lookup` reads.
fn var_in(
    lookup: impl Fn(&str) -> Option<String>,
    signal: &str,
    what: &str,
) -> Option<(String, String)> {
    [
        format!("OTEL_EXPORTER_OTLP_{signal}_{what}"),
        format!("OTEL_EXPORTER_OTLP_{what}"),
    ]
    .into_iter()
    .find_map(|name| {
        let value = lookup(&name).filter(|v| !v.is_empty())?;
        Some((name, value))
    })
}

/// How long one export may take: the variable's milliseconds, 10 s by default (the
/// specification's default, which the exporter's own client applies too).
fn timeout(signal: &str) -> Result<Duration, String> {
    match var(signal, "TIMEOUT") {
        None => Ok(Duration::from_secs(10)),
        Some((name, value)) => value
            .parse::<u64>()
            .ok()
            .filter(|&ms| ms > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| format!("{name}: `{value}` is not a number of milliseconds")),
    }
}

/// The TLS settings of one signal's client. The servers trusted are the certificates of the
/// `CERTIFICATE` file when it is set — those alone, so that a private collector's CA does not
/// have to be added to the system's — and the system's trusted roots otherwise. A client
/// certificate is offered when both `CLIENT_CERTIFICATE` and `CLIENT_KEY` are set (mutual TLS).
/// Plain `http://` endpoints use none of it.
fn tls(signal: &str) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match var(signal, "CERTIFICATE") {
        Some((name, path)) => {
            for cert in certificates(&name, &path)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("{name}: {path}: a certificate rustls refuses: {e}"))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                tracing::warn!(%error, "OTLP export: a system certificate could not be read");
            }
            // Certificates the system trusts but rustls cannot parse are skipped, as browsers do.
            roots.add_parsable_certificates(found.certs);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("OTLP export: TLS: {e}"))?
        .with_root_certificates(roots);
    match (var(signal, "CLIENT_CERTIFICATE"), var(signal, "CLIENT_KEY")) {
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some((cert_name, cert_path)), Some((key_name, key_path))) => {
            let chain = certificates(&cert_name, &cert_path)?;
            let key = PrivateKeyDer::from_pem_file(&key_path)
                .map_err(|e| format!("{key_name}: {key_path}: no private key read: {e}"))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("{cert_name} and {key_name}: {e}"))
        }
        (Some((name, _)), None) => Err(format!(
            "{name} is set without a key: set OTEL_EXPORTER_OTLP_CLIENT_KEY too"
        )),
        (None, Some((name, _))) => Err(format!(
            "{name} is set without a certificate: set OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE too"
        )),
    }
}

/// Every certificate of a PEM file, at least one.
fn certificates(name: &str, path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{name}: {path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{name}: {path} holds no PEM certificate"));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signal's own variable wins over the general one; an empty one counts as unset.
    #[test]
    fn the_signals_variable_wins_and_an_empty_one_is_unset() {
        const GENERAL: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
        const TRACES: &str = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE";
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                let value = vars.iter().find(|(n, _)| *n == name)?.1;
                Some(value.to_owned())
            }
        };
        assert_eq!(var_in(env(&[]), "TRACES", "CERTIFICATE"), None);
        let both = env(&[(GENERAL, "a"), (TRACES, "b")]);
        assert_eq!(
            var_in(both, "TRACES", "CERTIFICATE"),
            Some((TRACES.into(), "b".into()))
        );
        assert_eq!(
            var_in(both, "METRICS", "CERTIFICATE"),
            Some((GENERAL.into(), "a".into()))
        );
        let empty_signal = env(&[(GENERAL, "a"), (TRACES, "")]);
        assert_eq!(
            var_in(empty_signal, "TRACES", "CERTIFICATE"),
            Some((GENERAL.into(), "a".into()))
        );
    }
}
