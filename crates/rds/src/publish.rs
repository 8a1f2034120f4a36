//! Publishing an instance's logs to CloudWatch Logs: the agent's file-following library
//! reads the files, and the service `rds.amazonaws.com`, holding a session of the
//! cluster's `aws_default_logs_role`, sends them through the server's own request
//! pipeline, so the role's policies decide and every call is recorded like any other.

use std::sync::{Arc, Mutex};

use agent::assemble::Event;
use agent::config::{AgentSection, Config, InitialPosition, SourceConfig, Transform};
use agent::sink::{Refused, Sink, SinkError, classify_code};
use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use trail::Dispatch;
use wire::AwsError;

use crate::docs::Home;
use crate::engine::InstanceDir;

/// The service principal the publisher acts as.
pub const SERVICE_PRINCIPAL: &str = "rds.amazonaws.com";
/// The service-linked role standalone instances publish with, and the part of AWS's
/// AmazonRDSServiceRolePolicy that concerns logs.
pub const SERVICE_LINKED_ROLE: &str = "AWSServiceRoleForRDS";
const SERVICE_LINKED_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
  {"Sid":"CreateLogGroups","Effect":"Allow","Action":["logs:CreateLogGroup","logs:PutRetentionPolicy"],"Resource":["arn:aws:logs:*:*:log-group:/aws/rds/*"]},
  {"Sid":"PublishLogs","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogStreams","logs:GetLogEvents"],"Resource":["arn:aws:logs:*:*:log-group:/aws/rds/*:log-stream:*"]}
]}"#;

/// Log types an instance can publish.
pub const LOG_TYPES: &[&str] = &["audit", "error", "general", "slowquery"];

/// What an instance publishes, and as whom: the publisher restarts when this changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The logs role (`aws_default_logs_role`), or `None` for RDS's service-linked role.
    pub role: Option<String>,
    /// `/aws/rds/cluster/NAME` or `/aws/rds/instance/NAME`.
    pub group_prefix: String,
    pub stream: String,
    pub log_types: Vec<String>,
}

/// A running publisher.
pub struct Publisher {
    pub plan: Plan,
    stop: watch::Sender<bool>,
    /// One agent per log type, each with its own checkpoints, so a type that stops
    /// being published can forget where it was.
    tasks: Vec<JoinHandle<()>>,
}

/// Reports a publisher's trouble as an RDS event (DescribeEvents).
pub type Report = Arc<dyn Fn(String) + Send + Sync>;

/// What a publisher needs from the server.
#[derive(Clone)]
pub struct Services {
    pub dispatch: Arc<dyn Dispatch>,
    pub identities: iam::Identities,
    pub recorder: trail::Recorder,
}

impl Publisher {
    /// Starts following the instance's files for `plan`.
    pub fn start(plan: Plan, home: &Home, dir: &InstanceDir, services: Services, report: Report) -> Publisher {
        let sink = Arc::new(RdsSink {
            services,
            home: home.clone(),
            role: plan.role.clone(),
            session: Mutex::new(None),
            failing: Mutex::new(None),
            report,
        });
        let (stop, _) = watch::channel(false);
        let mut tasks = Vec::new();
        for kind in &plan.log_types {
            let config = agent_config(&plan, kind, dir);
            let (sink, mut stopped, instance, kind) = (sink.clone(), stop.subscribe(), plan.stream.clone(), kind.clone());
            tasks.push(tokio::spawn(async move {
                let stopped = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                if let Err(e) = agent::run(config, sink, false, stopped).await {
                    tracing::error!(instance = %instance, log_type = %kind, error = %e, "the log publisher stopped");
                }
            }));
        }
        Publisher { plan, stop, tasks }
    }

    /// Where a log type's publisher keeps its checkpoints.
    pub fn state_dir(dir: &InstanceDir, kind: &str) -> std::path::PathBuf {
        dir.publisher_state().join(kind)
    }

    /// Stops reading, sends what was read (briefly), and writes checkpoints.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// The agent configuration of one log type of a plan.
fn agent_config(plan: &Plan, kind: &str, dir: &InstanceDir) -> Config {
    let agent = AgentSection { state_dir: Publisher::state_dir(dir, kind), status_interval_secs: 0, ..Default::default() };
    let mut source = SourceConfig::new("", &format!("{}/{kind}", plan.group_prefix));
    source.log_stream = plan.stream.clone();
    // Applies only when there is no checkpoint: records written while nothing was
    // published stay unpublished, and files that appear later are read whole.
    source.initial_position = InitialPosition::EndOfFile;
    source.timezone = agent::config::TimeZone::Utc;
    match kind {
        "audit" => {
            source.path = dir.audit_log().display().to_string();
            source.timestamp_format = Some("epoch_micros".into());
            let instance = plan.stream.clone();
            source.transform = Some(Transform(Arc::new(move |line: &str| crate::audit::to_aurora(line, &instance))));
        }
        "error" => {
            source.path = dir.error_log().display().to_string();
            source.timestamp_format = Some("%Y-%m-%d %H:%M:%S".into());
            source.multi_line_start_pattern = Some("{timestamp_format}".into());
        }
        "general" => {
            source.path = dir.general_log().display().to_string();
            source.timestamp_format = Some("%y%m%d %H:%M:%S".into());
        }
        _ => {
            source.path = dir.slow_log().display().to_string();
            source.timestamp_format = Some("%y%m%d %H:%M:%S".into());
            source.multi_line_start_pattern = Some("^# Time: ".into());
        }
    }
    Config { agent, sources: vec![source] }
}

/// CloudWatch Logs through the server's pipeline, as a session of the logs role.
struct RdsSink {
    services: Services,
    home: Home,
    role: Option<String>,
    session: Mutex<Option<iam::Caller>>,
    /// The error being reported, so each kind of trouble is reported once until it clears.
    failing: Mutex<Option<String>>,
    report: Report,
}

impl RdsSink {
    /// A session of the role, assumed as rds.amazonaws.com and kept until near expiry;
    /// the AssumeRole is recorded as CloudTrail records a service's.
    async fn caller(&self) -> Result<iam::Caller, SinkError> {
        let now = time::OffsetDateTime::now_utc();
        if let Some(c) = self.session.lock().unwrap().as_ref()
            && c.principal.session.as_ref().is_some_and(|s| s.expires_at > now.unix_timestamp() + 300)
        {
            return Ok(c.clone());
        }
        let Some(role) = &self.role else {
            let identities = &self.services.identities;
            let c = identities.service_linked_session(SERVICE_PRINCIPAL, SERVICE_LINKED_ROLE, SERVICE_LINKED_POLICY, now.unix_timestamp());
            *self.session.lock().unwrap() = Some(c.clone());
            return Ok(c);
        };
        let services = &self.services;
        let result = services
            .recorder
            .assume_role_for_service(&services.identities, SERVICE_PRINCIPAL, role, "RDSLogsPublisher", &self.home.region)
            .await;
        match result {
            Ok(c) => {
                *self.session.lock().unwrap() = Some(c.clone());
                Ok(c)
            }
            Err(e) => {
                let text = format!("Unable to assume the IAM role {role} to publish logs to CloudWatch Logs: {}", e.message);
                self.trouble(&text);
                Err(SinkError::Denied(text))
            }
        }
    }

    async fn call(&self, operation: &str, input: Value) -> Result<Value, SinkError> {
        let caller = self.caller().await?;
        let result = self.services.dispatch.call_as(&caller, &self.home.region, "logs", operation, input).await;
        result.map_err(|e| self.classify(operation, &e))
    }

    /// A Create call whose resource may exist already: that is as good as created.
    async fn create(&self, operation: &str, input: Value) -> Result<(), SinkError> {
        let caller = self.caller().await?;
        match self.services.dispatch.call_as(&caller, &self.home.region, "logs", operation, input).await {
            Ok(_) => Ok(()),
            Err(e) if e.code == "ResourceAlreadyExistsException" => Ok(()),
            Err(e) => Err(self.classify(operation, &e)),
        }
    }

    fn classify(&self, operation: &str, e: &AwsError) -> SinkError {
        let err = classify_code(&e.code, &e.message);
        if let SinkError::Denied(_) = err {
            self.trouble(&format!(
                "The IAM role {} does not allow publishing logs to CloudWatch Logs ({operation}): {}. Publishing is retried.",
                self.role_name(),
                e.message
            ));
        }
        err
    }

    fn role_name(&self) -> &str {
        self.role.as_deref().unwrap_or(SERVICE_LINKED_ROLE)
    }

    /// Reports trouble once until it changes or clears.
    fn trouble(&self, text: &str) {
        let mut failing = self.failing.lock().unwrap();
        if failing.as_deref() != Some(text) {
            *failing = Some(text.to_owned());
            (self.report)(text.to_owned());
        }
    }

    fn cleared(&self) {
        if self.failing.lock().unwrap().take().is_some() {
            (self.report)(format!("Publishing logs to CloudWatch Logs with the IAM role {} has resumed.", self.role_name()));
        }
    }
}

#[async_trait]
impl Sink for RdsSink {
    async fn ensure_stream(&self, group: &str, stream: &str, _retention: Option<i32>) -> Result<(), SinkError> {
        // An existing group is used as it is; a new one keeps events forever (Never Expire).
        self.create("CreateLogGroup", json!({"logGroupName": group})).await?;
        self.create("CreateLogStream", json!({"logGroupName": group, "logStreamName": stream})).await
    }

    async fn put(&self, group: &str, stream: &str, events: &[Event]) -> Result<Refused, SinkError> {
        let events: Vec<Value> = events.iter().map(|e| json!({"timestamp": e.timestamp, "message": e.message})).collect();
        let out = self.call("PutLogEvents", json!({"logGroupName": group, "logStreamName": stream, "logEvents": events})).await?;
        self.cleared();
        let index = |k: &str| out["rejectedLogEventsInfo"][k].as_u64().map(|i| i as usize);
        Ok(Refused {
            too_new_start: index("tooNewLogEventStartIndex"),
            too_old_end: index("tooOldLogEventEndIndex"),
            expired_end: index("expiredLogEventEndIndex"),
        })
    }

    async fn messages_between(&self, group: &str, stream: &str, start: i64, end: i64) -> Result<Vec<String>, SinkError> {
        let mut messages = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut input =
                json!({"logGroupName": group, "logStreamName": stream, "startTime": start, "endTime": end + 1, "startFromHead": true});
            if let Some(t) = &token {
                input["nextToken"] = json!(t);
            }
            let out = self.call("GetLogEvents", input).await?;
            let events = out["events"].as_array().cloned().unwrap_or_default();
            messages.extend(events.iter().filter_map(|e| e["message"].as_str().map(str::to_owned)));
            let next = out["nextForwardToken"].as_str().map(str::to_owned);
            if next.is_none() || next == token || events.is_empty() {
                return Ok(messages);
            }
            token = next;
        }
    }
}
