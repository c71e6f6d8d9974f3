//! The Python client in the docs signs exactly like the server: it checks itself against the
//! contract's vectors (the same ones the Rust unit tests use).

#[test]
fn the_documented_python_client_reproduces_the_vectors() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/src/dating/sign.py");
    match std::process::Command::new("python3").arg(script).output() {
        Err(e) => eprintln!("skipped: python3 is not available ({e})"),
        Ok(out) => {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(stdout.contains("OK: all four vectors"), "{stdout}");
        }
    }
}
