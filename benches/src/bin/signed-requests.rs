//! Writes a wrk script that sends `COUNT` GETs of `PATH`, each signed with its own nonce by the
//! development app and carrying `TOKEN`: `signed-requests PATH TOKEN COUNT > requests.lua`.
//!
//! wrk cannot compute MD5, and a signed request can be sent once (replays are 40103), so the
//! requests are signed ahead and the script walks through them.

use example_dating::client::{Signer, encode};
use example_dating::config::{AppConfig, DEV_APP};
use example_dating::signing::Scheme;
use http::Method;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(token), Some(count)) = (
        args.next(),
        args.next(),
        args.next().and_then(|c| c.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: signed-requests PATH TOKEN COUNT");
        std::process::exit(2);
    };
    let signer = Signer::new(AppConfig {
        appkey: DEV_APP.0.into(),
        secret: DEV_APP.1.into(),
        scheme: Scheme::V1,
        enabled: true,
    });
    let params = [
        ("page".to_owned(), "1".to_owned()),
        ("pageCount".to_owned(), "20".to_owned()),
    ];
    println!("paths = {{");
    for _ in 0..count {
        let signed = signer.sign(&Method::GET, &path, &params, Some(&token));
        println!("  \"{path}?{}\",", encode(&signed));
    }
    println!("}}");
    println!("i = 0");
    println!(
        "request = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend"
    );
}
