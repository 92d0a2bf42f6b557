//! Sandbox configuration: data-set sizes, credentials and fault injection knobs.

pub use crate::bodystyle::BodyStyle;
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
    /// Real-world payload shapes (all off by default).
    pub shapes: Shapes,
    /// Chats served without `id`, given by their 0-based position in the original export order
    /// (before any update), e.g. `[999, 1500]`: the last of the first full 1000-chat page and
    /// one in the middle of the second. The envelope's `end_id` still names the real id.
    pub chats_without_id: Vec<usize>,
}

/// Payload shapes seen in real captures of the API (issue 9), each switchable and reflected in
/// `expected()` exactly as served. All off by default.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Shapes {
    /// How 200 bodies are spaced (compact, indented, newlines).
    pub body_style: BodyStyle,
    /// Resources whose bodies get `body_style` (empty: every resource).
    pub body_style_resources: Vec<String>,
    /// Every third offline message has `session.start_date`/`end_date` like
    /// `"2017-04-24T12:43:37+00:00Z"` (offset and Z).
    pub offline_session_dates_offset_z: bool,
    /// Shortcuts `hello` and `escalate` and trigger `Returning visitor` lack `id`; shortcut
    /// `order_number` lacks `scope`.
    pub missing_primary_keys: bool,
    /// Bans number 5, 12, 19, ... (k % 7 == 5) lack the `created_at` key entirely.
    pub bans_without_created_at: bool,
    /// Chats with index % 59 == 9 have an invalid IPv4 in `session.ip` (`"67.32.299.96"` style).
    pub invalid_session_ips: bool,
    /// Chats with index % 61 == 19 (and bans k % 9 == 2 of type visitor) have visitor ids like
    /// `"3.45678"` instead of `{account}.{random}`.
    pub odd_visitor_ids: bool,
    /// `routing_settings` lacks `auto_accept`.
    pub routing_without_auto_accept: bool,
    /// `account.billing` lacks `cycle` and `phone`.
    pub billing_without_cycle_and_phone: bool,
    /// One more agent and one more ban (served last) with id 9223372036854775807 (2^63 − 1), so
    /// that an inclusive `since_id` cannot advance past it.
    pub max_int_ids: bool,
}

impl Shapes {
    /// Every shape captured from the real API switched on, bodies spaced as `style` for every
    /// resource. `max_int_ids` (a paging edge, not a capture) stays off.
    pub fn real_world(style: BodyStyle) -> Self {
        Shapes {
            body_style: style,
            body_style_resources: Vec::new(),
            offline_session_dates_offset_z: true,
            missing_primary_keys: true,
            bans_without_created_at: true,
            invalid_session_ips: true,
            odd_visitor_ids: true,
            routing_without_auto_accept: true,
            billing_without_cycle_and_phone: true,
            max_int_ids: false,
        }
    }

    /// The body style for one resource.
    pub fn style_of(&self, resource: &str) -> BodyStyle {
        let listed = self.body_style_resources.is_empty()
            || self.body_style_resources.iter().any(|r| r == resource);
        if listed {
            self.body_style
        } else {
            BodyStyle::Compact
        }
    }
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
            shapes: Shapes::default(),
            chats_without_id: Vec::new(),
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
    /// Resources (`chats`, `bans`) where some records carry a timestamp as a JSON number of epoch
    /// seconds: chats with index % 53 == 17 (`update_timestamp`), bans k % 5 == 1 (`created_at`).
    pub numeric_timestamps: Vec<String>,
    /// Resources answered with a 200 whose body is an HTML page (`text/html`).
    pub html_body: Vec<String>,
    /// agent_timeline: every page serves the first `limit` records again while `end_time`
    /// advances by one second per page (the envelope moves, the records do not).
    pub timeline_stuck: bool,
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
            numeric_timestamps: Vec::new(),
            html_body: Vec::new(),
            timeline_stuck: false,
        }
    }
}

/// Every resource the sandbox serves, with its path under `/api/v2/chat/`: the one list of
/// resource names (routing, `/_sandbox/expected/{resource}` and the fault lists use it).
pub const ENDPOINTS: [(&str, &str); 14] = [
    ("account", "account"),
    ("agents", "agents"),
    ("agent_timeline", "incremental/agent_timeline"),
    ("bans", "bans"),
    ("chats", "incremental/chats"),
    ("conversions", "incremental/conversions"),
    ("department_events", "incremental/department_events"),
    ("departments", "departments"),
    ("goals", "goals"),
    ("roles", "roles"),
    ("routing_settings", "routing_settings/account"),
    ("shortcuts", "shortcuts"),
    ("skills", "skills"),
    ("triggers", "triggers"),
];

/// The resource (endpoint) names served by the sandbox, in `ENDPOINTS` order.
pub const RESOURCES: [&str; ENDPOINTS.len()] = names(ENDPOINTS);

const fn names<const N: usize>(endpoints: [(&'static str, &'static str); N]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut k = 0;
    while k < N {
        out[k] = endpoints[k].0;
        k += 1;
    }
    out
}
