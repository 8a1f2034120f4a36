//! What CloudTrail recording costs a DescribeLogGroups call, in process:
//!
//! - the whole call through the pipeline (validate, authorize, execute, record);
//! - the recording part alone (the record built from input and output, handed to the
//!   committer), which is what the request path pays;
//! - the committer's cost per event (the batched catalog insert, off the request path).
//!
//! `cargo run --release -p server --example record_cost`

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use wire::Service;

const CALLS: u32 = 20_000;
const GROUPS: usize = 50;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("trailwatch-record-cost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = store::Store::open(store::StoreConfig::new(&dir)).await?;
    let account = "123456789012";
    let identities = iam::Identities::load(store.clone(), account, "AKIABENCHROOT0000001", iam::Secret::new("bench-secret")).await?;
    let logs = Arc::new(logs::LogsService::new(store.clone(), logs::Limits::default()));
    let recorder = trail::Recorder::start(store.clone());
    let pipeline = server::Pipeline::new(identities.clone(), Duration::from_secs(300), vec![logs.clone()], recorder.clone());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let root = identities.authenticate("AKIABENCHROOT0000001", None, now).map_err(|_| anyhow::anyhow!("root key"))?;
    for i in 0..GROUPS {
        pipeline.call_as(&root, "us-east-1", "logs", "CreateLogGroup", json!({"logGroupName": format!("bench/{i:03}")})).await.ok();
    }
    let input = json!({"logGroupNamePrefix": "bench/", "limit": 50});

    // Warm up, then the whole call.
    for _ in 0..1000 {
        pipeline.call_as(&root, "us-east-1", "logs", "DescribeLogGroups", input.clone()).await.ok();
    }
    let started = Instant::now();
    for _ in 0..CALLS {
        pipeline.call_as(&root, "us-east-1", "logs", "DescribeLogGroups", input.clone()).await.ok();
    }
    let whole = started.elapsed() / CALLS;

    // The recording part alone, with the same input and output.
    let op = logs.operation("DescribeLogGroups").expect("operation exists");
    let ctx = wire::CallContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        account_id: account.to_owned(),
        region: "us-east-1".to_owned(),
        principal: root.principal.clone(),
        now_millis: now * 1000,
        source_ip: Some("127.0.0.1".parse()?),
        user_agent: Some("aws-sdk-rust/1.3 os/linux lang/rust/1.90".to_owned()),
    };
    let output = logs.call(&ctx, op, input.clone()).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let started = Instant::now();
    for _ in 0..CALLS {
        let begun = trail::record::Started::new(&ctx, &*logs, op, Some(&input));
        let event = begun.finish(trail::record::Outcome::Success(&output));
        recorder.record(event, false).await;
    }
    let recording = started.elapsed() / CALLS;

    // The committer: events made durable per second, measured by waiting for a final
    // durable event after a burst.
    let event = trail::record::Started::new(&ctx, &*logs, op, Some(&input)).finish(trail::record::Outcome::Success(&output));
    let started = Instant::now();
    let fresh = || {
        let mut e = event.clone();
        e.event_id = uuid::Uuid::new_v4().to_string();
        e
    };
    for _ in 0..CALLS {
        recorder.record(fresh(), false).await;
    }
    recorder.record(fresh(), true).await;
    let commit = started.elapsed() / (CALLS + 1);

    println!("DescribeLogGroups ({GROUPS} groups) through the pipeline, recording included: {:>8.1} µs/call", micros(whole));
    println!("recording on the request path (build record, hand over):             {:>8.1} µs/call", micros(recording));
    println!("recording share of the call:                                          {:>8.1} %", 100.0 * micros(recording) / micros(whole));
    println!("committer, events made durable (batched inserts, off the request path): {:>8.1} µs/event", micros(commit));
    recorder.shutdown().await;
    store.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
