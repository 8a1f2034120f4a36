//! The agent's TOML configuration: where state lives, how to reach the log service, and
//! the sources to follow.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

/// PutLogEvents' ceiling on events in one call.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// PutLogEvents' ceiling on a call's size: UTF-8 message bytes plus [`EVENT_OVERHEAD`] each.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Bytes CloudWatch Logs counts for each event on top of its message.
pub const EVENT_OVERHEAD: usize = 26;
/// The largest event CloudWatch Logs accepts since April 2025 (overhead included).
pub const MAX_EVENT_BYTES: usize = 1_048_576;
/// Retention values PutRetentionPolicy accepts.
const RETENTION_DAYS: &[i32] = &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub agent: AgentSection,
    /// The files to follow, each `[[source]]` table one glob.
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
}

/// `[agent]`: settings that apply to every source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentSection {
    /// Where checkpoints are kept; must survive restarts.
    pub state_dir: PathBuf,
    /// Region to sign for; the SDK's chain (AWS_REGION, profile) when absent.
    pub region: Option<String>,
    /// Endpoint to ship to, such as a trailwatch server; AWS itself when absent (or AWS_ENDPOINT_URL).
    pub endpoint_url: Option<String>,
    /// Named profile for credentials and region; the SDK's default chain when absent.
    pub profile: Option<String>,
    /// How often files are checked for new data, rotation and new matches.
    pub poll_interval_ms: u64,
    /// Bytes read ahead of what the log service acknowledged, per destination stream. When
    /// the endpoint is slow or down, reading pauses here and the rest waits in the file.
    pub max_buffer_bytes: usize,
    /// `host:port` to serve `/metrics` (Prometheus text) and `/status` (JSON) on.
    pub metrics_listen: Option<String>,
    /// How often a status line with each file's lag is logged; 0 turns it off.
    pub status_interval_secs: u64,
    /// What `{instance_id}` expands to; the cloud-init instance ID, else the host name.
    pub instance_id: Option<String>,
    /// Milliseconds a rotated or deleted file is kept open at its end in case its writer
    /// still appends, before it is closed.
    pub rotate_wait_ms: u64,
}

impl Default for AgentSection {
    fn default() -> Self {
        AgentSection {
            state_dir: PathBuf::from("./trailwatch-agent-state"),
            region: None,
            endpoint_url: None,
            profile: None,
            poll_interval_ms: 100,
            max_buffer_bytes: 16 << 20,
            metrics_listen: None,
            status_interval_secs: 60,
            instance_id: None,
            rotate_wait_ms: 1000,
        }
    }
}

/// Where to start reading a file the agent has never seen, on a source's first run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitialPosition {
    StartOfFile,
    EndOfFile,
}

/// What to do with an event larger than the per-event limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Oversize {
    /// Keep the first bytes that fit and end the message with `[Truncated...]`.
    Truncate,
    /// Send it as several consecutive events.
    Split,
}

/// The time zone of timestamps that carry none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum TimeZone {
    #[serde(rename = "UTC")]
    Utc,
    #[serde(rename = "Local")]
    Local,
}

/// One `[[source]]`: a glob of files and the stream their events go to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A path or glob (`*`, `?`, `[..]`); files that come to match it later are picked up.
    pub path: String,
    /// The log group; `{hostname}` and `{instance_id}` expand.
    pub log_group: String,
    /// The stream; `{hostname}`, `{instance_id}` and `{file_name}` expand.
    #[serde(default = "default_stream")]
    pub log_stream: String,
    /// strftime-style format of each event's timestamp (`%Y%m%d %H:%M:%S` for MariaDB's
    /// audit log, or `epoch_seconds`/`epoch_millis`/`epoch_micros`), found anywhere in its
    /// first line. Absent: the time the line was read ("ingestion time").
    pub timestamp_format: Option<String>,
    #[serde(default = "default_time_zone")]
    pub timezone: TimeZone,
    #[serde(default = "default_initial_position")]
    pub initial_position: InitialPosition,
    /// A regular expression matching the first line of each event; following lines that
    /// do not match belong to it. `{timestamp_format}` means "a line starting with a timestamp".
    pub multi_line_start_pattern: Option<String>,
    /// A multi-line event is sent when no line has followed it for this long.
    #[serde(default = "default_multi_line_flush_ms")]
    pub multi_line_flush_ms: u64,
    /// The files' character encoding, by its WHATWG label (`utf-8`, `latin1`, `shift_jis`, ...).
    #[serde(default = "default_encoding")]
    pub encoding: String,
    /// Retention set on a log group the agent creates.
    pub retention_in_days: Option<i32>,
    /// Longest an event waits for companions before its batch is sent.
    #[serde(default = "default_buffer_duration_ms")]
    pub buffer_duration_ms: u64,
    /// Most events in one PutLogEvents call (at most 10,000).
    #[serde(default = "default_batch_count")]
    pub batch_count: usize,
    /// Most bytes in one PutLogEvents call, counted as CloudWatch Logs does (at most 1,048,576).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Largest event, overhead included (at most 1,048,576; 262,144 for older endpoints).
    #[serde(default = "default_max_event_size")]
    pub max_event_size: usize,
    #[serde(default = "default_oversize")]
    pub oversize: Oversize,
    /// Rewrites each event's text before its timestamp is read; set by code, not by TOML
    /// (the RDS publisher turns MariaDB's audit lines into Aurora's).
    #[serde(skip)]
    pub transform: Option<Transform>,
}

/// A rewrite of each event's text (see [`SourceConfig::transform`]).
#[derive(Clone)]
pub struct Transform(pub std::sync::Arc<dyn Fn(&str) -> String + Send + Sync>);

impl std::fmt::Debug for Transform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transform")
    }
}

fn default_stream() -> String {
    "{instance_id}".into()
}
fn default_time_zone() -> TimeZone {
    TimeZone::Local
}
fn default_initial_position() -> InitialPosition {
    InitialPosition::StartOfFile
}
fn default_multi_line_flush_ms() -> u64 {
    1000
}
fn default_encoding() -> String {
    "utf-8".into()
}
fn default_buffer_duration_ms() -> u64 {
    200
}
fn default_batch_count() -> usize {
    MAX_BATCH_EVENTS
}
fn default_batch_size() -> usize {
    MAX_BATCH_BYTES
}
fn default_max_event_size() -> usize {
    MAX_EVENT_BYTES
}
fn default_oversize() -> Oversize {
    Oversize::Truncate
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let config: Config = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        config.validate()?;
        Ok(config)
    }

    /// Rejects settings the log service or the agent cannot honour, naming the source.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.sources.is_empty() {
            bail!("no [[source]] is configured");
        }
        if self.agent.poll_interval_ms == 0 {
            bail!("[agent] poll_interval_ms must be at least 1");
        }
        for (i, s) in self.sources.iter().enumerate() {
            s.validate().with_context(|| format!("[[source]] {} ({})", i + 1, s.path))?;
        }
        Ok(())
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.agent.poll_interval_ms)
    }
}

impl SourceConfig {
    /// A source following `path` into `log_group`, every other setting at its default.
    pub fn new(path: &str, log_group: &str) -> SourceConfig {
        let mut table = toml::Table::new();
        table.insert("path".into(), path.into());
        table.insert("log_group".into(), log_group.into());
        table.try_into().expect("a path and a group are all a source needs")
    }

    fn validate(&self) -> anyhow::Result<()> {
        glob::Pattern::new(&self.path).context("path is not a valid glob")?;
        if self.log_group.is_empty() || self.log_stream.is_empty() {
            bail!("log_group and log_stream must not be empty");
        }
        if !(1..=MAX_BATCH_EVENTS).contains(&self.batch_count) {
            bail!("batch_count must be between 1 and {MAX_BATCH_EVENTS}");
        }
        if !(EVENT_OVERHEAD + 1..=MAX_BATCH_BYTES).contains(&self.batch_size) {
            bail!("batch_size must be between {} and {MAX_BATCH_BYTES}", EVENT_OVERHEAD + 1);
        }
        if !(EVENT_OVERHEAD + 4..=MAX_EVENT_BYTES).contains(&self.max_event_size) {
            bail!("max_event_size must be between {} and {MAX_EVENT_BYTES}", EVENT_OVERHEAD + 4);
        }
        if self.max_event_size > self.batch_size {
            bail!("max_event_size must not exceed batch_size");
        }
        if let Some(days) = self.retention_in_days
            && !RETENTION_DAYS.contains(&days)
        {
            bail!("retention_in_days must be one of {RETENTION_DAYS:?}");
        }
        self.encoding()?;
        crate::assemble::Parser::new(self)?;
        Ok(())
    }

    /// The configured encoding; only encodings that keep `\n` a single byte can be split into lines.
    pub fn encoding(&self) -> anyhow::Result<&'static encoding_rs::Encoding> {
        let Some(encoding) = encoding_rs::Encoding::for_label(self.encoding.as_bytes()) else {
            bail!("unknown encoding {:?}", self.encoding);
        };
        if !encoding.is_ascii_compatible() {
            bail!("encoding {} is not ASCII-compatible, so lines cannot be found in it", encoding.name());
        }
        Ok(encoding)
    }

    /// The largest message, in UTF-8 bytes, that fits one event.
    pub fn max_message_bytes(&self) -> usize {
        self.max_event_size - EVENT_OVERHEAD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn defaults_fill_a_minimal_source() {
        let c = parse("[[source]]\npath = \"/var/log/*.log\"\nlog_group = \"g\"\n").unwrap();
        let s = &c.sources[0];
        assert_eq!(s.log_stream, "{instance_id}");
        assert_eq!(s.batch_count, 10_000);
        assert_eq!(s.batch_size, 1_048_576);
        assert_eq!(s.initial_position, InitialPosition::StartOfFile);
        assert_eq!(s.max_message_bytes(), 1_048_550);
        assert_eq!(c.agent.poll_interval_ms, 100);
    }

    #[test]
    fn limits_beyond_put_log_events_are_refused() {
        let base = "[[source]]\npath = \"/x\"\nlog_group = \"g\"\n";
        for extra in [
            "batch_count = 10001",
            "batch_count = 0",
            "batch_size = 2000000",
            "max_event_size = 2000000",
            "retention_in_days = 2",
            "encoding = \"utf-16le\"",
            "encoding = \"klingon\"",
            "multi_line_start_pattern = \"(\"",
            "timestamp_format = \"%Q\"",
            "unknown_key = 1",
        ] {
            assert!(parse(&format!("{base}{extra}\n")).is_err(), "{extra} should be refused");
        }
        assert!(parse("[agent]\n").is_err(), "no sources");
    }
}
