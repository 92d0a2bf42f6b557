//! `zendesk-chat-sandbox` binary: runs the fake Zendesk Chat API until killed or `--max-lifetime-secs`.

use clap::Parser;
use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use zendesk_chat_sandbox::{
    BodyStyle, Faults, Layout, Sandbox, SandboxConfig, ServeOptions, Shapes, TlsFiles,
};

/// A deterministic fake Zendesk Chat REST API (for tests, benchmarks and demos).
#[derive(Parser, Debug)]
#[command(name = "zendesk-chat-sandbox", version)]
struct Cli {
    /// Port to listen on (0 = random free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind. Only loopback unless you really mean it.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// PRNG seed; all data is a pure function of the seed and the counts.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of chats (about 20% offline messages).
    #[arg(long, default_value_t = 2000)]
    chats: usize,
    /// Extra chats that all share one update_timestamp second.
    #[arg(long, default_value_t = 0)]
    tie_chats: usize,
    /// Number of agents.
    #[arg(long, default_value_t = 25)]
    agents: usize,
    /// Number of bans.
    #[arg(long, default_value_t = 30)]
    bans: usize,
    /// Number of agent timeline items.
    #[arg(long, default_value_t = 500)]
    agent_timeline: usize,
    /// Disable the type quirks (ints for booleans, array webpath items, ...).
    #[arg(long)]
    no_quirks: bool,
    /// Static Bearer token accepted from the start.
    #[arg(long, default_value = "sandbox-token-0001")]
    access_token: String,
    /// OAuth client id.
    #[arg(long, default_value = "sandbox-client-1")]
    client_id: String,
    /// OAuth client secret.
    #[arg(long, default_value = "sandbox-secret-0001")]
    client_secret: String,
    /// Initial (single-use, rotating) refresh token.
    #[arg(long, default_value = "sandbox-refresh-0001")]
    refresh_token: String,
    /// Every access token expires after this many successful (2xx) API requests made with it.
    #[arg(long)]
    token_ttl_requests: Option<u32>,
    /// `expires_in` returned by the token endpoint.
    #[arg(long, default_value_t = 3600)]
    token_expires_in: u64,
    /// Probability of a random 500/502/503 per API request.
    #[arg(long, default_value_t = 0.0)]
    error_rate_5xx: f64,
    /// Probability of a random 429 per API request.
    #[arg(long, default_value_t = 0.0)]
    rate_429: f64,
    /// Retry-After seconds for random 429s.
    #[arg(long, default_value_t = 1)]
    retry_after_secs: u64,
    /// API requests numbered AFTER+1..=AFTER+LEN get 503 (format: AFTER,LEN).
    #[arg(long, value_parser = parse_pair)]
    burst_5xx: Option<(u64, u64)>,
    /// Sliding 60 s window request limit (429 + Retry-After above it).
    #[arg(long)]
    rpm_limit: Option<u32>,
    /// Delay before answering each API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Resources answered with 404 (repeatable or comma separated).
    #[arg(long, value_delimiter = ',')]
    not_found: Vec<String>,
    /// Resources answered with 403 (repeatable or comma separated).
    #[arg(long, value_delimiter = ',')]
    forbidden: Vec<String>,
    /// Resources whose 200 bodies are truncated (repeatable or comma separated).
    #[arg(long, value_delimiter = ',')]
    malformed_json: Vec<String>,
    /// Incremental `limit` above this is rejected with 400.
    #[arg(long, default_value_t = 1000)]
    max_limit_incremental: u32,
    /// Late indexing: updated chats become visible in the export this many seconds later.
    #[arg(long, default_value_t = 0)]
    index_lag_secs: u64,
    /// Draw each update's lag uniformly in 0..=--index-lag-secs.
    #[arg(long)]
    index_lag_jitter: bool,
    /// Extra chats with an update_timestamp in 2099.
    #[arg(long, default_value_t = 0)]
    future_chats: usize,
    /// Where the chats lie in the range: even, last5, first5 or bursts.
    #[arg(long, default_value = "even")]
    layout: Layout,
    /// Start of the chats' range: epoch seconds, `now` or `now-SECS` (default 2024-01-01).
    #[arg(long, value_parser = parse_epoch)]
    range_start_epoch_secs: Option<i64>,
    /// End of the chats' range: epoch seconds, `now` or `now-SECS` (default 2024-12-31).
    #[arg(long, value_parser = parse_epoch)]
    range_end_epoch_secs: Option<i64>,
    /// Body spacing: compact, indented or newlines.
    #[arg(long, default_value = "compact", value_parser = parse_style)]
    body_style: BodyStyle,
    /// Resources that get --body-style (default: all; repeatable or comma separated).
    #[arg(long, value_delimiter = ',')]
    body_style_resources: Vec<String>,
    /// Real-world shapes to switch on (repeatable or comma separated): offline_session_dates_offset_z,
    /// missing_primary_keys, bans_without_created_at, invalid_session_ips, odd_visitor_ids,
    /// routing_without_auto_accept, billing_without_cycle_and_phone, max_int_ids, or `all`.
    #[arg(long, value_delimiter = ',')]
    shape: Vec<String>,
    /// Resources (chats, bans) where some timestamps are JSON numbers.
    #[arg(long, value_delimiter = ',')]
    numeric_timestamps: Vec<String>,
    /// Resources answered with a 200 HTML page.
    #[arg(long, value_delimiter = ',')]
    html_body: Vec<String>,
    /// Chats served without `id`: positions in the original export order (comma separated).
    #[arg(long, value_delimiter = ',')]
    chats_without_id: Vec<usize>,
    /// agent_timeline serves the same records on every page while end_time advances.
    #[arg(long)]
    timeline_stuck: bool,
    /// Exit after this many seconds (0 = never).
    #[arg(long, default_value_t = 3600)]
    max_lifetime_secs: u64,
    /// PEM certificate chain: serve HTTPS instead of HTTP (needs --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn parse_pair(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| "expected AFTER,LEN".to_string())?;
    Ok((
        a.trim().parse().map_err(|e| format!("{e}"))?,
        b.trim().parse().map_err(|e| format!("{e}"))?,
    ))
}

/// Epoch seconds, or `now` / `now-SECS` relative to the start of the process.
fn parse_epoch(s: &str) -> Result<i64, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let now = i64::try_from(now).map_err(|e| e.to_string())?;
    match s.strip_prefix("now") {
        Some("") => Ok(now),
        Some(rest) => {
            let back: i64 = rest
                .strip_prefix('-')
                .ok_or_else(|| format!("expected now-SECS, got {s:?}"))?
                .parse()
                .map_err(|e| format!("{s:?}: {e}"))?;
            now.checked_sub(back)
                .ok_or_else(|| format!("{s:?} is out of range"))
        }
        None => s.parse().map_err(|e| format!("{s:?}: {e}")),
    }
}

fn parse_style(s: &str) -> Result<BodyStyle, String> {
    match s {
        "compact" => Ok(BodyStyle::Compact),
        "indented" => Ok(BodyStyle::Indented),
        "newlines" => Ok(BodyStyle::Newlines),
        _ => Err(format!(
            "unknown body style {s:?}: expected compact, indented or newlines"
        )),
    }
}

fn shapes(cli: &Cli) -> Result<Shapes, String> {
    let mut sh = Shapes {
        body_style: cli.body_style,
        body_style_resources: cli.body_style_resources.clone(),
        ..Shapes::default()
    };
    for name in &cli.shape {
        let all = name == "all";
        let mut known = all;
        let mut set = |n: &str, flag: &mut bool| {
            if all || name == n {
                *flag = true;
                known = true;
            }
        };
        set(
            "offline_session_dates_offset_z",
            &mut sh.offline_session_dates_offset_z,
        );
        set("missing_primary_keys", &mut sh.missing_primary_keys);
        set("bans_without_created_at", &mut sh.bans_without_created_at);
        set("invalid_session_ips", &mut sh.invalid_session_ips);
        set("odd_visitor_ids", &mut sh.odd_visitor_ids);
        set(
            "routing_without_auto_accept",
            &mut sh.routing_without_auto_accept,
        );
        set(
            "billing_without_cycle_and_phone",
            &mut sh.billing_without_cycle_and_phone,
        );
        if !known {
            return Err(format!("unknown --shape {name:?}"));
        }
    }
    Ok(sh)
}

/// The sandbox configuration the flags describe.
fn config_of(cli: Cli, shapes: Shapes) -> SandboxConfig {
    SandboxConfig {
        seed: cli.seed,
        chats: cli.chats,
        tie_chats: cli.tie_chats,
        agents: cli.agents,
        bans: cli.bans,
        agent_timeline: cli.agent_timeline,
        quirks: !cli.no_quirks,
        access_token: cli.access_token,
        client_id: cli.client_id,
        client_secret: cli.client_secret,
        refresh_token: cli.refresh_token,
        token_ttl_requests: cli.token_ttl_requests,
        token_expires_in: cli.token_expires_in,
        faults: Faults {
            error_rate_5xx: cli.error_rate_5xx,
            rate_429: cli.rate_429,
            retry_after_secs: cli.retry_after_secs,
            burst_5xx: cli.burst_5xx,
            rpm_limit: cli.rpm_limit,
            latency_ms: cli.latency_ms,
            not_found: cli.not_found,
            forbidden: cli.forbidden,
            malformed_json: cli.malformed_json,
            max_limit_incremental: cli.max_limit_incremental,
            numeric_timestamps: cli.numeric_timestamps,
            html_body: cli.html_body,
            timeline_stuck: cli.timeline_stuck,
        },
        index_lag_secs: cli.index_lag_secs,
        index_lag_jitter: cli.index_lag_jitter,
        future_chats: cli.future_chats,
        layout: cli.layout,
        range_start_epoch_secs: cli.range_start_epoch_secs,
        range_end_epoch_secs: cli.range_end_epoch_secs,
        shapes,
        chats_without_id: cli.chats_without_id,
    }
}

fn main() {
    let cli = Cli::parse();
    let shapes = shapes(&cli).unwrap_or_else(|e| {
        eprintln!("zendesk-chat-sandbox: {e}");
        std::process::exit(2);
    });
    let tls = match (cli.tls_cert.clone(), cli.tls_key.clone()) {
        (Some(cert_pem), Some(key_pem)) => Some(TlsFiles { cert_pem, key_pem }),
        _ => None,
    };
    let (bind, port, max_lifetime_secs) = (cli.bind, cli.port, cli.max_lifetime_secs);
    let cfg = config_of(cli, shapes);
    let scheme = if tls.is_some() { "https" } else { "http" };
    eprintln!(
        "zendesk-chat-sandbox: seed={} chats={} tie_chats={} future_chats={} layout={:?} agents={} bans={} agent_timeline={} quirks={} index_lag_secs={}",
        cfg.seed, cfg.chats, cfg.tie_chats, cfg.future_chats, cfg.layout, cfg.agents, cfg.bans,
        cfg.agent_timeline, cfg.quirks, cfg.index_lag_secs
    );
    let started = std::time::Instant::now();
    let sandbox = match Sandbox::spawn_with(cfg, ServeOptions { bind, port, tls }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("zendesk-chat-sandbox: failed to start: {e}");
            std::process::exit(1);
        }
    };
    eprintln!(
        "zendesk-chat-sandbox: data ready in {:.2?}; API base {}",
        started.elapsed(),
        sandbox.base_url()
    );
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {scheme}://{}", sandbox.addr());
    let _ = out.flush();
    drop(out);
    if max_lifetime_secs == 0 {
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    std::thread::sleep(Duration::from_secs(max_lifetime_secs));
    eprintln!("zendesk-chat-sandbox: max lifetime reached, exiting");
    let stats = sandbox.stats();
    eprintln!(
        "zendesk-chat-sandbox: served {} API requests ({:?})",
        stats.requests, stats.by_status
    );
    drop(sandbox);
}
