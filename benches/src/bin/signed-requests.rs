//! Writes a wrk script that sends `COUNT` requests of `PATH`, each signed with its own nonce by
//! the development app and carrying `TOKEN` (`-` for none):
//! `signed-requests PATH TOKEN COUNT [sendsms] > requests.lua`.
//!
//! GETs carry `page=1&pageCount=20`. With `sendsms`, they are `POST`s of a form body with a
//! different `phone` each (`+86139` and eight digits), so no phone's own limit refuses them —
//! what a flood of sends from one client looks like to the server, the client limit aside.
//!
//! wrk cannot compute MD5, and a signed request can be sent once (replays are 40103), so the
//! requests are signed ahead and the script walks through them, formatted once at start.

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
        eprintln!("usage: signed-requests PATH TOKEN COUNT [sendsms]");
        std::process::exit(2);
    };
    let sendsms = args.next().as_deref() == Some("sendsms");
    // Phones start at a different place each time: a script signed again after a warm-up
    // sends to phones the warm-up did not (whose minute window would refuse them).
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as usize);
    let token = (token != "-").then_some(token);
    let signer = Signer::new(AppConfig {
        appkey: DEV_APP.0.into(),
        secret: DEV_APP.1.into(),
        scheme: Scheme::V1,
        enabled: true,
    });
    println!("requests = {{");
    for i in 0..count {
        if sendsms {
            let params = [(
                "phone".to_owned(),
                format!("139{:08}", (start + i) % 100_000_000),
            )];
            let signed = signer.sign(&Method::POST, &path, &params, token.as_deref());
            println!("  \"{}\",", encode(&signed));
        } else {
            let params = [
                ("page".to_owned(), "1".to_owned()),
                ("pageCount".to_owned(), "20".to_owned()),
            ];
            let signed = signer.sign(&Method::GET, &path, &params, token.as_deref());
            println!("  \"{path}?{}\",", encode(&signed));
        }
    }
    println!("}}");
    println!("i = 0");
    // Each request is formatted once, in `init` (wrk has set the Host header by then), and the
    // garbage collector is stopped after: `request` then makes no garbage. With a request
    // formatted per call, LuaJIT's collector walked this table of hundreds of thousands of
    // strings in wrk's only thread, and its pauses — tens of milliseconds, more the larger
    // the table — were counted as the server's p99.
    if sendsms {
        println!(
            "wrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\n\
             init = function(args)\n  for n = 1, #requests do\n    \
             requests[n] = wrk.format(\"POST\", \"{path}\", nil, requests[n])\n  end\n  \
             collectgarbage(\"collect\")\n  collectgarbage(\"stop\")\nend"
        );
    } else {
        println!(
            "init = function(args)\n  for n = 1, #requests do\n    \
             requests[n] = wrk.format(\"GET\", requests[n])\n  end\n  \
             collectgarbage(\"collect\")\n  collectgarbage(\"stop\")\nend"
        );
    }
    println!("request = function()\n  i = i % #requests + 1\n  return requests[i]\nend");
}
