//! What the CloudWatch tests share: a store in a temporary directory, calls as the
//! account's root, and a local HTTP endpoint that records SNS notifications.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use monitoring::{Monitoring, MonitoringService};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wire::{AwsError, CallContext, Principal, Service};

pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "us-east-1";

/// A CloudWatch service over a fresh store.
pub struct Fixture {
    pub svc: MonitoringService,
    pub mon: Arc<Monitoring>,
    pub dir: PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Opens a store in a new temporary directory, with these SNS topic endpoints.
pub async fn fixture(topics: &[(&str, &str)]) -> Fixture {
    let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("trailwatch-monitoring-test-{}-{unique}", std::process::id()));
    let store = store::Store::open(store::StoreConfig::new(&dir)).await.expect("store opens");
    let topics: BTreeMap<String, String> = topics.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let mon = Monitoring::new(store, topics);
    Fixture { svc: MonitoringService::new(Arc::clone(&mon)), mon, dir }
}

impl Fixture {
    /// Calls an operation now, as root.
    pub async fn call(&self, op: &str, input: Value) -> Result<Value, AwsError> {
        self.call_at(now_ms(), op, input).await
    }

    /// Calls an operation at a given time, as root.
    pub async fn call_at(&self, now: i64, op: &str, input: Value) -> Result<Value, AwsError> {
        let spec = self.svc.operation(op).unwrap_or_else(|| panic!("{op} is served"));
        self.svc.call(&ctx(now), spec, input).await
    }

    /// Calls an operation that must succeed.
    pub async fn ok(&self, op: &str, input: Value) -> Value {
        self.call(op, input).await.unwrap_or_else(|e| panic!("{op}: {e}"))
    }

    /// Calls an operation that must fail, returning (code, message).
    pub async fn err(&self, op: &str, input: Value) -> (String, String) {
        match self.call(op, input).await {
            Ok(v) => panic!("{op} succeeded: {v}"),
            Err(e) => (e.code.to_string(), e.message),
        }
    }
}

/// A call context of the account's root user.
pub fn ctx(now: i64) -> CallContext {
    CallContext {
        request_id: "test".into(),
        account_id: ACCOUNT.into(),
        region: REGION.into(),
        principal: Principal::root(ACCOUNT, "AKIAROOT"),
        now_millis: now,
        source_ip: None,
        user_agent: None,
    }
}

pub fn now_ms() -> i64 {
    monitoring::now_millis()
}

/// The start of the minute `minutes_ago` minutes before the current one.
pub fn minute(minutes_ago: i64) -> i64 {
    (now_ms() / 60_000 - minutes_ago) * 60_000
}

/// Epoch seconds, as timestamps travel in JSON-shaped input.
pub fn secs(ms: i64) -> Value {
    Value::from(ms / 1000)
}

/// One POST the endpoint received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: Value,
}

/// A local HTTP endpoint recording what is posted to it; the first `fail_first`
/// requests are answered 500.
pub struct Endpoint {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Endpoint {
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

pub async fn endpoint(fail_first: usize) -> Endpoint {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sns", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let failures = Arc::new(AtomicUsize::new(fail_first));
    let sink = Arc::clone(&received);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (sink, failures) = (Arc::clone(&sink), Arc::clone(&failures));
            tokio::spawn(async move {
                let Some(request) = read_request(&mut socket).await else { return };
                let fail = failures.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
                if !fail {
                    sink.lock().unwrap().push(request);
                }
                let status = if fail { "500 Internal Server Error" } else { "200 OK" };
                let answer = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    Endpoint { url, received }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: HashMap<String, String> =
        head.lines().skip(1).filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..head_end + length]).ok()?;
    Some(Received { headers, body })
}
