//! nginx in front of example-dating processes, for the deployment test: the site config of
//! docs/src/dating/deployment.md, instances as child processes, readiness.
#![allow(unreachable_pub)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use example_dating::client;
use http::Method;

/// A process under test, killed when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Instance {
    pub addr: SocketAddr,
    pub db_url: String,
    pub redis_url: String,
    pub prefix: String,
    pub log: PathBuf,
}

impl Instance {
    pub async fn start(&self) -> Process {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_example-dating"));
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LISTEN", self.addr.to_string())
            .env("DATABASE_URL", &self.db_url);
        // No Redis named: the in-process store (one instance).
        if !self.redis_url.is_empty() {
            command
                .env("REDIS_URL", &self.redis_url)
                .env("REDIS_PREFIX", &self.prefix);
        }
        let child = command
            .env("TRUSTED_PROXIES", "127.0.0.1")
            .env("SMS_PER_CLIENT_DAILY", "1000")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the example-dating binary starts");
        let process = Process(child);
        ready(&self.addr.to_string(), &self.log).await;
        process
    }
}

/// Waits (bounded) until `addr` answers `/readyz` with 200.
pub async fn ready(addr: &str, log: &Path) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let probe = client::request(Method::GET, "/readyz", &[]);
        if let Ok((status, _)) = client::send(addr, probe).await {
            if status == 200 {
                return;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{addr} is not ready after 60 s; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `nginx` block of the deployment chapter, with its three ports replaced.
pub fn site_config(nginx: SocketAddr, a: SocketAddr, b: SocketAddr) -> String {
    let chapter = include_str!("../../../docs/src/dating/deployment.md");
    let start = chapter
        .find("```nginx\n")
        .expect("the chapter has an nginx block")
        + 9;
    let block = &chapter[start..];
    let block = &block[..block.find("```").unwrap()];
    for port in ["127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8082"] {
        assert!(block.contains(port), "the documented config names {port}");
    }
    block
        .replace("127.0.0.1:8080", &nginx.to_string())
        .replace("127.0.0.1:8081", &a.to_string())
        .replace("127.0.0.1:8082", &b.to_string())
}

pub fn start_nginx(binary: &str, dir: &Path, site: &str) -> Process {
    let d = dir.display();
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 512; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         {site}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(binary)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    Process(child)
}
