//! trailwatch's own services act through service principals: CloudTrail assumes the role
//! of seed 004 to write to a log group, and only a service the trust policy names may.

use iam::{AccessRequest, IamService, Identities, Secret};
use serde_json::json;
use wire::{CallContext, Principal, Service};

const ACCOUNT: &str = "111122223333";

async fn identities(dir: &std::path::Path) -> Identities {
    let store = store::Store::open(store::StoreConfig::new(dir)).await.expect("store opens");
    Identities::load(store, ACCOUNT, "AKIAROOT", Secret::new("root-secret")).await.expect("identities load")
}

fn uuid() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

fn root_call() -> CallContext {
    CallContext {
        request_id: "test".into(),
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        principal: Principal::root(ACCOUNT, "AKIAROOT"),
        now_millis: time::OffsetDateTime::now_utc().unix_timestamp() * 1000,
        source_ip: None,
        user_agent: None,
    }
}

async fn call(svc: &IamService, op: &str, input: serde_json::Value) -> serde_json::Value {
    let spec = svc.operation(op).expect("operation exists");
    svc.call(&root_call(), spec, input).await.unwrap_or_else(|e| panic!("{op}: {e:?}"))
}

#[tokio::test]
async fn only_the_trusted_service_assumes_the_seed_004_role() {
    let dir = std::env::temp_dir().join(format!("trailwatch-iam-test-{}-{}", std::process::id(), uuid()));
    let ids = identities(&dir).await;
    let svc = IamService::new(ids.clone());
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = call(&svc, "CreateRole", json!({"RoleName": "CloudTrail_CloudWatchLogs_Role", "AssumeRolePolicyDocument": trust})).await;
    let role_arn = role["Role"]["Arn"].as_str().unwrap().to_owned();
    let stream = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:CloudTrail/logs:log-stream:{ACCOUNT}_CloudTrail_us-east-1");
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:CloudTrail/logs:log-stream:{ACCOUNT}_CloudTrail_us-east-1*")}]});
    call(
        &svc,
        "PutRolePolicy",
        json!({"RoleName": "CloudTrail_CloudWatchLogs_Role", "PolicyName": "cloudtrail-policy", "PolicyDocument": policy.to_string()}),
    )
    .await;

    let now = time::OffsetDateTime::now_utc();
    let err = ids.assume_role_for_service("rds.amazonaws.com", &role_arn, "rds", now).expect_err("RDS is not trusted");
    assert_eq!(err.code, "AccessDenied");
    let caller =
        ids.assume_role_for_service("cloudtrail.amazonaws.com", &role_arn, "CloudTrailSession", now).expect("CloudTrail is trusted");
    assert_eq!(caller.principal.arn, format!("arn:aws:sts::{ACCOUNT}:assumed-role/CloudTrail_CloudWatchLogs_Role/CloudTrailSession"));

    // The session is authorized as the role: its stream, nothing else.
    let tags = Default::default();
    let request = |action: &'static str, resource: &str| {
        let resources = vec![resource.to_owned()];
        let r = AccessRequest {
            action,
            resources: &resources,
            region: "us-east-1",
            source_ip: None,
            secure_transport: false,
            now,
            request_tags: &[],
            tag_keys: &[],
            resource_tags: &tags,
        };
        ids.authorize(&caller, &r)
    };
    assert!(request("logs:PutLogEvents", &stream).is_ok());
    let denied = request("logs:DeleteLogGroup", &stream).expect_err("not granted");
    assert!(denied.message.contains("because no identity-based policy allows the logs:DeleteLogGroup action"), "{}", denied.message);
    let other = stream.replace("CloudTrail/logs", "other");
    assert!(request("logs:PutLogEvents", &other).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
