//! Helpers shared by the integration tests: a trace of the steps that ran.
#![allow(dead_code, unreachable_pub)]

pub mod users;

use std::sync::{Arc, Mutex};

use kotori::{Ctx, Rejection, Response};

/// The app state of the tests: a log every step writes its name to.
#[derive(Clone, Default)]
pub struct Trace(Arc<Mutex<Vec<String>>>);

impl Trace {
    pub fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }

    /// Returns and clears what was recorded.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// A guard that records `name` and lets the request pass.
pub fn mark(name: &'static str) -> impl Fn(&mut Ctx<Trace>) -> Result<(), Rejection> + Send + Sync {
    move |cx: &mut Ctx<Trace>| {
        cx.state().push(name);
        Ok(())
    }
}

/// A guard that records `name` and refuses with 403.
pub fn deny(name: &'static str) -> impl Fn(&mut Ctx<Trace>) -> Result<(), Rejection> + Send + Sync {
    move |cx: &mut Ctx<Trace>| {
        cx.state().push(name);
        Err(Rejection::forbidden())
    }
}

/// An after hook that records `name` and the status it saw.
pub fn after(name: &'static str) -> impl Fn(&Ctx<Trace>, &mut Response) + Send + Sync {
    move |cx: &Ctx<Trace>, res: &mut Response| {
        cx.state().push(format!("{name}:{}", res.status().as_u16()));
    }
}

/// A handler that records `name` and answers it.
pub fn handler(name: &'static str) -> impl Fn(&mut Ctx<Trace>) -> &'static str + Send + Sync {
    move |cx: &mut Ctx<Trace>| {
        cx.state().push(name);
        name
    }
}

/// A writer the log goes to, shared with the test.
#[derive(Clone, Default)]
pub struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The log of this test binary: installed once, globally, because tracing caches per call site
/// whether anyone listens, and a per-thread subscriber would race with the other tests.
pub fn captured_log() -> LogBuffer {
    static LOG: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = LogBuffer::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        log
    })
    .clone()
}

impl LogBuffer {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
