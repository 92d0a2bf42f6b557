//! Sandbox configuration: data-set sizes, credentials and fault injection knobs.

use serde::{Deserialize, Serialize};

/// Everything that shapes the fake account. All data is a pure function of these values.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default)]
pub struct SandboxConfig {
    /// Seed of every pseudo-random choice (data, tokens, faults).
    pub seed: u64,
    /// Number of chats (about 20% of them are offline messages).
    pub chats: usize,
    /// Extra chats that all share one `update_timestamp` second (2024-06-15T12:00:00Z).
    pub tie_chats: usize,
    /// Number of agents.
    pub agents: usize,
    /// Number of bans (split between `ip_address` and `visitor`).
    pub bans: usize,
    /// Number of agent timeline items.
    pub agent_timeline: usize,
    /// Emit the type quirks observed in real payloads (ints for bools, arrays in webpath, ...).
    pub quirks: bool,
    /// Static Bearer token accepted from the start.
    pub access_token: String,
    /// OAuth client id accepted by the token endpoint.
    pub client_id: String,
    /// OAuth client secret accepted by the token endpoint.
    pub client_secret: String,
    /// Initial refresh token (single use; rotates on every refresh).
    pub refresh_token: String,
    /// `Some(k)`: every access token becomes invalid after `k` successful (2xx) API requests made with it.
    pub token_ttl_requests: Option<u32>,
    /// `expires_in` returned by the token endpoint.
    pub token_expires_in: u64,
    /// Fault injection.
    pub faults: Faults,
    /// Late indexing: a chat updated at second T becomes visible in `incremental/chats` only at
    /// T + this many seconds (0 = at once, today's behaviour). Applies to `update_chats`.
    pub index_lag_secs: u64,
    /// With `index_lag_secs`: each update draws its own lag uniformly in `0..=index_lag_secs`,
    /// so a same-second chat with a lower id can become visible after a higher one was served.
    pub index_lag_jitter: bool,
    /// Extra chats whose `update_timestamp` lies in 2099 (2099-01-01T00:00:00Z + k seconds),
    /// served by the export at their sort position: last.
    pub future_chats: usize,
    /// How the regular chats are spread over the range (benchmark layouts).
    pub layout: Layout,
    /// Start of the chats' range, epoch seconds (None: 2024-01-01T00:00:00Z).
    pub range_start_epoch_secs: Option<i64>,
    /// End of the chats' range, epoch seconds (None: 2024-12-31T00:00:00Z). Chats start at least
    /// two days before it.
    pub range_end_epoch_secs: Option<i64>,
}

/// Where the regular chats lie inside `range_start..range_end` (the tie and future chats are
/// placed independently of the layout).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Spread evenly over the whole range (the historical data set).
    #[default]
    Even,
    /// All in the last 5% of the range (an old `start_date`, an account that chatted recently).
    Last5,
    /// All in the first 5% of the range.
    First5,
    /// Four dense bursts (1% of the range each, at 10%, 40%, 70% and 95%) with empty gaps.
    Bursts,
}

impl std::str::FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> Result<Layout, String> {
        match s {
            "even" => Ok(Layout::Even),
            "last5" => Ok(Layout::Last5),
            "first5" => Ok(Layout::First5),
            "bursts" => Ok(Layout::Bursts),
            _ => Err(format!(
                "unknown layout {s:?}: expected even, last5, first5 or bursts"
            )),
        }
    }
}

impl Layout {
    /// Maps a start second drawn uniformly from `lo..hi` into this layout's part of the range.
    pub fn place(self, lo: i64, hi: i64, drawn: i64) -> i64 {
        let span = (hi - lo).max(1);
        let pos = (drawn - lo).clamp(0, span - 1);
        match self {
            Layout::Even => drawn,
            Layout::Last5 => lo + span - span / 20 + pos / 20,
            Layout::First5 => lo + pos / 20,
            Layout::Bursts => {
                const CENTRES_PERCENT: [i64; 4] = [10, 40, 70, 95];
                let quarter = (span / 4).max(1);
                let k = ((pos / quarter) as usize).min(3);
                let within = (pos - k as i64 * quarter).max(0);
                lo + CENTRES_PERCENT[k] * span / 100 + within / 25
            }
        }
    }
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 42,
            chats: 2000,
            tie_chats: 0,
            agents: 25,
            bans: 30,
            agent_timeline: 500,
            quirks: true,
            access_token: "sandbox-token-0001".to_string(),
            client_id: "sandbox-client-1".to_string(),
            client_secret: "sandbox-secret-0001".to_string(),
            refresh_token: "sandbox-refresh-0001".to_string(),
            token_ttl_requests: None,
            token_expires_in: 3600,
            faults: Faults::default(),
            index_lag_secs: 0,
            index_lag_jitter: false,
            future_chats: 0,
            layout: Layout::Even,
            range_start_epoch_secs: None,
            range_end_epoch_secs: None,
        }
    }
}

/// Fault injection settings; all off by default. Can be replaced at run time.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    /// Probability of a 500/502/503 on an API request.
    pub error_rate_5xx: f64,
    /// Probability of a random 429 with `Retry-After: retry_after_secs`.
    pub rate_429: f64,
    /// `Retry-After` for random 429s.
    pub retry_after_secs: u64,
    /// `(after, length)`: API requests numbered `after+1 ..= after+length` get 503.
    pub burst_5xx: Option<(u64, u64)>,
    /// Sliding 60 s window limit over all API requests; excess requests get 429.
    pub rpm_limit: Option<u32>,
    /// Delay before answering each API request.
    pub latency_ms: u64,
    /// Resources answered with 404.
    pub not_found: Vec<String>,
    /// Resources answered with 403.
    pub forbidden: Vec<String>,
    /// Resources whose 200 bodies are truncated in the middle.
    pub malformed_json: Vec<String>,
    /// Incremental `limit` above this is rejected with 400.
    pub max_limit_incremental: u32,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            error_rate_5xx: 0.0,
            rate_429: 0.0,
            retry_after_secs: 1,
            burst_5xx: None,
            rpm_limit: None,
            latency_ms: 0,
            not_found: Vec::new(),
            forbidden: Vec::new(),
            malformed_json: Vec::new(),
            max_limit_incremental: 1000,
        }
    }
}

/// The resource (endpoint) names served by the sandbox.
pub const RESOURCES: [&str; 12] = [
    "account",
    "agents",
    "agent_timeline",
    "bans",
    "chats",
    "departments",
    "goals",
    "roles",
    "routing_settings",
    "shortcuts",
    "skills",
    "triggers",
];
