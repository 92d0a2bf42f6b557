//! `zendesk-chat-sandbox`: a deterministic fake of the Zendesk Chat REST API (incremental chat
//! export, conversions and department events exports, agents, bans, agent timeline, small
//! settings lists, OAuth token rotation) with fault injection, for integration tests,
//! benchmarks and demos.
//!
//! Switches beyond the defaults (all off unless set):
//! - the live edge: late indexing (`index_lag_secs`, `Sandbox::update_chats_late`,
//!   `index_pending`, `chat_versions`), `future_chats` in 2099, data `layout`s over a
//!   configurable range;
//! - real-world payload shapes (`SandboxConfig::shapes`): indented bodies and missing or odd
//!   fields;
//! - faults (`Faults`): 5xx, 429, rate limit, latency, 404/403, truncated and HTML bodies,
//!   numeric timestamps, a stuck agent timeline; and `chats_without_id`.
//!
//! ```no_run
//! use zendesk_chat_sandbox::{Sandbox, SandboxConfig};
//! let sb = Sandbox::spawn(SandboxConfig { chats: 100, ..Default::default() }).unwrap();
//! println!("{}", sb.base_url()); // http://127.0.0.1:PORT/api/v2/chat/
//! ```

mod bodystyle;
mod chat;
mod config;
mod data;
mod exports;
mod jsonw;
mod pools;
mod server;
mod tls;

pub use config::{BodyStyle, Faults, Layout, SandboxConfig, Shapes, ENDPOINTS, RESOURCES};
pub use server::{ChatVersion, Stats};

use server::Shared;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Where and how to listen (used by the binary; tests normally use [`Sandbox::spawn`]).
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address to bind (default 127.0.0.1).
    pub bind: IpAddr,
    /// Port (0 = random free port).
    pub port: u16,
    /// Serve HTTPS with this PEM certificate chain and private key.
    pub tls: Option<TlsFiles>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            tls: None,
        }
    }
}

/// PEM files for HTTPS.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
}

/// A running sandbox server (its own thread and tokio runtime). Dropping it stops the server.
pub struct Sandbox {
    shared: Arc<Shared>,
    addr: SocketAddr,
    scheme: &'static str,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts the server on 127.0.0.1 with a random port.
    pub fn spawn(cfg: SandboxConfig) -> std::io::Result<Sandbox> {
        Self::spawn_on(cfg, 0)
    }

    /// Starts the server on 127.0.0.1:`port` (0 = random).
    pub fn spawn_on(cfg: SandboxConfig, port: u16) -> std::io::Result<Sandbox> {
        Self::spawn_with(
            cfg,
            ServeOptions {
                port,
                ..ServeOptions::default()
            },
        )
    }

    /// Starts the server with explicit listen options (bind address, TLS).
    pub fn spawn_with(cfg: SandboxConfig, opts: ServeOptions) -> std::io::Result<Sandbox> {
        let tls = match &opts.tls {
            Some(files) => Some(tls::acceptor(files)?),
            None => None,
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let listener = std::net::TcpListener::bind((opts.bind, opts.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(cfg, scheme, addr));
        let app = server::router(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
        let thread = std::thread::Builder::new()
            .name("zendesk-chat-sandbox".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("sandbox-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    tokio::select! {
                        _ = tls::serve(listener, app, tls) => {}
                        _ = rx => {}
                    }
                });
                rt.shutdown_timeout(Duration::from_millis(200));
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(std::io::Error::other("sandbox thread died during start")),
        }
        Ok(Sandbox {
            shared,
            addr,
            scheme,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/api/v2/chat/` (https when serving TLS).
    pub fn base_url(&self) -> String {
        format!("{}://{}/api/v2/chat/", self.scheme, self.addr)
    }

    /// Every record of `resource` exactly as the API would serve it now (see crate docs).
    pub fn expected(&self, resource: &str) -> Vec<serde_json::Value> {
        self.shared.expected(resource)
    }

    /// Bumps the `update_timestamp` of `n` distinct chats to `at` (default now − 600 s), adding an
    /// `"updated"` tag; returns their ids.
    pub fn update_chats(&self, n: usize, at_epoch_secs: Option<i64>) -> Vec<String> {
        self.shared.update_chats(n, at_epoch_secs)
    }

    /// Late indexing: bumps `n` distinct chats to `at_epoch_secs` (adding the `"updated"` tag);
    /// each new version is served by the export only from `at + lag`, `lag` drawn uniformly in
    /// `0..=max_lag_secs` per chat. `expected("chats")` shows them at once; returns their ids.
    pub fn update_chats_late(
        &self,
        n: usize,
        at_epoch_secs: i64,
        max_lag_secs: u64,
    ) -> Vec<String> {
        self.shared
            .update_chats_late(n, at_epoch_secs, max_lag_secs)
    }

    /// Makes every chat version still waiting for the index visible now; returns how many.
    pub fn index_pending(&self) -> usize {
        self.shared.index_pending()
    }

    /// How many chat versions the export does not serve yet.
    pub fn pending_chats(&self) -> usize {
        self.shared.pending_chats()
    }

    /// The chats the export serves at epoch second `t` (latest visible versions, export order).
    pub fn expected_chats_visible_at(&self, t_epoch_secs: i64) -> Vec<serde_json::Value> {
        self.shared.expected_chats_visible_at(t_epoch_secs)
    }

    /// The current version of every chat in export order: id, `update_timestamp`, revision and
    /// the second from which the export serves it (for "0 lost, 0 emitted twice" checks).
    pub fn chat_versions(&self) -> Vec<ChatVersion> {
        self.shared.chat_versions()
    }

    /// Replaces the fault settings.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// A snapshot of the request statistics.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// The refresh token that the token endpoint accepts next.
    pub fn current_refresh_token(&self) -> String {
        self.shared.current_refresh_token()
    }

    /// The most recently issued access token (the static one before any refresh).
    pub fn current_access_token(&self) -> String {
        self.shared.current_access_token()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests;
