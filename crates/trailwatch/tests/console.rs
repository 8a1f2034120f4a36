//! The web console end to end: the real binary serving it, Debian's headless Chromium
//! using it (through chromedriver), and the AWS SDK for Rust or the `aws` CLI as the
//! other clients that set things up and check what the console did. Screenshots of
//! every checked page are kept in `test-artifacts/console/`.

mod common;

use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use std::path::PathBuf;

use serde_json::Value;
use testbed::browser::Browser;

/// Where the screenshots are kept: `test-artifacts/console/` at the repository's root.
fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts/console")
}

fn console(server: &common::Server) -> String {
    server.endpoint.clone()
}

fn cloudtrail(server: &common::Server) -> aws_sdk_cloudtrail::Client {
    aws_sdk_cloudtrail::Client::new(&server.sdk_config())
}

/// The CloudTrail records of one event name, newest first.
async fn recorded(server: &common::Server, event_name: &str) -> Vec<Value> {
    let attribute = LookupAttribute::builder().attribute_key(LookupAttributeKey::EventName).attribute_value(event_name).build().unwrap();
    let page = cloudtrail(server).lookup_events().lookup_attributes(attribute).send().await.unwrap();
    page.events().iter().map(|e| serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap()).collect()
}

/// An IAM user with an inline policy and an access key; returns (key id, secret).
async fn user_with_policy(server: &common::Server, name: &str, policy: &str) -> (String, String) {
    let iam = server.iam();
    iam.create_user().user_name(name).send().await.unwrap();
    iam.put_user_policy().user_name(name).policy_name("console").policy_document(policy).send().await.unwrap();
    let key = iam.create_access_key().user_name(name).send().await.unwrap().access_key.unwrap();
    (key.access_key_id().to_owned(), key.secret_access_key().to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_and_creating_a_log_group() {
    let server = common::Server::start();
    let mut browser = Browser::start("create-group", shots()).await;

    // A wrong secret is refused with STS's own answer, and nobody is signed in.
    browser.goto(&format!("{}/_trailwatch/console/", console(&server))).await;
    browser.fill("accessKeyId", common::ACCESS_KEY).await;
    browser.fill("secretAccessKey", "not-the-secret").await;
    browser.click_button("Sign in").await;
    let refused = browser.wait_text(".error", "SignatureDoesNotMatch").await;
    assert!(refused.contains("The request signature we calculated does not match the signature you provided"), "{refused}");
    browser.screenshot("wrong-secret").await;

    let who = browser.sign_in(&console(&server), common::ACCESS_KEY, common::SECRET_KEY).await;
    assert_eq!(who, format!("arn:aws:iam::{}:root", common::ACCOUNT));
    browser.wait_text("h1", "Log groups").await;
    browser.screenshot("signed-in").await;

    // Create a group with a retention and a tag through the dialog.
    browser.click_button("Create log group").await;
    browser.fill("logGroupName", "/console/created").await;
    browser.select("retentionInDays", "7").await;
    browser.fill("tags", "team=audit").await;
    browser.screenshot("create-dialog").await;
    browser.click_button("Create").await;
    browser.wait_text("h1", "/console/created").await;
    browser.wait_text(".kv", "7 days").await;
    browser.wait_text(".kv", "team=audit").await;
    browser.screenshot("created").await;

    // The group is real: another client sees it with its retention and tag.
    let logs = server.logs();
    let groups = logs.describe_log_groups().log_group_name_prefix("/console/created").send().await.unwrap();
    let group = &groups.log_groups()[0];
    assert_eq!(group.log_group_name(), Some("/console/created"));
    assert_eq!(group.retention_in_days(), Some(7));
    let arn = group.arn().unwrap().trim_end_matches(":*");
    let tags = logs.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().get("team").map(String::as_str), Some("audit"));

    // Retention and tags change in place.
    browser.click_button("Edit").await;
    browser.select("retention", "30").await;
    browser.click_button("Save").await;
    browser.wait_text(".kv", "30 days").await;
    browser.fill("tagKey", "env").await;
    browser.fill("tagValue", "prod").await;
    browser.click_button("Add tag").await;
    browser.wait_text(".kv", "env=prod").await;
    browser.click_xpath("//button[@title='Remove team']").await;
    let started = std::time::Instant::now();
    while browser.text().await.contains("team=audit") {
        assert!(started.elapsed().as_secs() < 30, "the tag never went");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let group = logs.describe_log_groups().log_group_name_prefix("/console/created").send().await.unwrap();
    assert_eq!(group.log_groups()[0].retention_in_days(), Some(30));
    let tags = logs.list_tags_for_resource().resource_arn(arn).send().await.unwrap();
    assert_eq!(tags.tags().unwrap().iter().collect::<Vec<_>>(), [(&"env".to_owned(), &"prod".to_owned())]);
    browser.screenshot("edited").await;

    // The list shows it, and the click was recorded like any other call, from the browser.
    browser.click_link("Log groups").await;
    browser.wait_text("[data-testid=log-groups]", "/console/created").await;
    let records = recorded(&server, "CreateLogGroup").await;
    let record = records.iter().find(|r| r["requestParameters"]["logGroupName"] == "/console/created").expect("CreateLogGroup recorded");
    assert_eq!(record["userIdentity"]["type"], "Root");
    assert!(record["userAgent"].as_str().unwrap().contains("Chrome"), "{}", record["userAgent"]);
    assert_eq!(record["sourceIPAddress"], "127.0.0.1");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn live_tail_shows_events_as_a_client_writes_them() {
    let server = common::Server::start();
    let logs = server.logs();
    common::create_group(&logs, "/app/orders", &["web-1", "web-2"]).await;
    let now = common::now_millis();
    let earlier: Vec<(i64, String)> = (0..150).map(|i| (now - 60_000 + i, format!("earlier event {i:03}"))).collect();
    common::put_events(&logs, "/app/orders", "web-1", &earlier).await;
    common::put_events(&logs, "/app/orders", "web-1", &[(now, r#"{"user":"alice","action":"DROP TABLE orders"}"#.to_owned())]).await;

    let mut browser = Browser::start("live-tail", shots()).await;
    browser.sign_in(&console(&server), common::ACCESS_KEY, common::SECRET_KEY).await;
    browser.click_link("/app/orders").await;
    // Streams are ordered by their last event.
    let streams = browser.wait_text("[data-testid=log-streams]", "web-1").await;
    assert!(streams.find("web-1").unwrap() < streams.find("web-2").unwrap(), "{streams}");
    browser.click_link("web-1").await;

    // The newest events first, with older ones a scroll away.
    browser.wait_text("[data-testid=events]", "DROP TABLE orders").await;
    let shown = browser.texts("[data-testid=event]").await;
    assert_eq!(shown.len(), 100, "one page of the newest events");
    assert!(!shown.iter().any(|e| e.contains("earlier event 000")));
    browser.client().execute("document.querySelector('[data-testid=events]').scrollTop = 0", vec![]).await.unwrap();
    browser.wait_text("[data-testid=events]", "earlier event 000").await;
    browser.wait_text("[data-testid=events]", "Start of the stream").await;
    assert_eq!(browser.texts("[data-testid=event]").await.len(), 151);

    // A JSON event opens as JSON.
    browser.click_xpath("//div[@data-testid='event'][contains(., 'DROP TABLE orders')]").await;
    browser.wait_text(".json .j-key", "\"action\"").await;
    browser.screenshot("json-event").await;

    // A filter pattern narrows the stream.
    browser.fill("filterPattern", "\"earlier event 14\"").await;
    browser.click_button("Filter").await;
    browser.wait_text("[data-testid=events-count]", "10 events shown").await;
    browser.click_button("Clear").await;
    browser.wait_text("[data-testid=events]", "DROP TABLE orders").await;

    // Live tail: events another client writes appear without a reload.
    browser.click_button("Start live tail").await;
    browser.wait_text("[data-testid=live-tail]", "Stop live tail").await;
    for i in 0..3 {
        common::put_events(&logs, "/app/orders", "web-1", &[(common::now_millis(), format!("tailed event {i}"))]).await;
        browser.wait_text("[data-testid=events]", &format!("tailed event {i}")).await;
    }
    browser.screenshot("stream-tail").await;

    // And across the whole group: a tail started now shows only what comes next.
    browser.click_link("/app/orders").await;
    browser.click_button("Live tail").await;
    browser.wait_text("[data-testid=events]", "waiting for new events").await;
    common::put_events(&logs, "/app/orders", "web-2", &[(common::now_millis(), "from the second server".to_owned())]).await;
    let row = browser.wait_text("[data-testid=events]", "from the second server").await;
    assert!(row.contains("web-2"), "{row}");
    assert!(!row.contains("earlier event"), "{row}");
    browser.screenshot("group-tail").await;
    browser.close().await;
}

const AUDITOR_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["logs:*", "cloudtrail:LookupEvents", "cloudtrail:Describe*", "cloudtrail:Get*"], "Resource": "*"},
    {"Effect": "Deny", "Action": "logs:DeleteLogGroup", "Resource": "*"}
  ]
}"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_delete_shows_awss_message_and_is_in_event_history() {
    let server = common::Server::start();
    let logs = server.logs();
    common::create_group(&logs, "/keep/me", &["s"]).await;
    let (key, secret) = user_with_policy(&server, "auditor", AUDITOR_POLICY).await;
    // The message AWS gives for this denial, as any client receives it.
    let sdk = aws_sdk_cloudwatchlogs::Client::new(&server.sdk_config_with(&key, &secret, None));
    let denied = sdk.delete_log_group().log_group_name("/keep/me").send().await.unwrap_err().into_service_error();
    let message = denied.meta().message().unwrap().to_owned();
    assert!(message.contains("with an explicit deny in an identity-based policy"), "{message}");

    let mut browser = Browser::start("denied-delete", shots()).await;
    let who = browser.sign_in(&console(&server), &key, &secret).await;
    assert_eq!(who, format!("arn:aws:iam::{}:user/auditor", common::ACCOUNT));
    browser.click_link("/keep/me").await;
    browser.click_button("Delete log group").await;
    browser.click_button("Delete").await;
    let shown = browser.wait_text("[role=dialog] .error", "AccessDeniedException").await;
    assert!(shown.contains(&message), "the console shows {shown:?}, AWS says {message:?}");
    browser.screenshot("delete-denied").await;

    // Nothing changed.
    let groups = logs.describe_log_groups().log_group_name_prefix("/keep/me").send().await.unwrap();
    assert_eq!(groups.log_groups().len(), 1);

    // The attempt is in event history, found by its name, with the error.
    browser.goto(&format!("{}/_trailwatch/console/#/cloudtrail/events", console(&server))).await;
    browser.select("attributeKey", "EventName").await;
    browser.fill("attributeValue", "DeleteLogGroup").await;
    browser.click_button("Search").await;
    let rows = browser.wait_text("[data-testid=event-history]", "AccessDeniedException").await;
    assert!(rows.contains("DeleteLogGroup") && rows.contains("auditor"), "{rows}");
    // Two attempts: the SDK's and the console's; open the console's full record.
    browser.click_xpath("//table[@data-testid='event-history']/tbody/tr[1]").await;
    let record = browser.wait_text("[data-testid=event-history] .json", "\"errorCode\"").await;
    assert!(record.contains("Chrome") && record.contains("/keep/me"), "{record}");
    browser.screenshot("denied-in-history").await;

    let records = recorded(&server, "DeleteLogGroup").await;
    assert_eq!(records.len(), 2, "{records:?}");
    for r in &records {
        assert_eq!(r["errorCode"], "AccessDeniedException", "{r}");
        assert_eq!(r["errorMessage"], message.as_str());
        assert_eq!(r["userIdentity"]["userName"], "auditor");
    }
    assert!(records[0]["userAgent"].as_str().unwrap().contains("Chrome"), "newest first: the console's");
    browser.close().await;
}

const RDS_TRUST: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rds.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Seeds 000–001 through the console: audit parameters edited on its page reach a real
/// MariaDB, whose audit records the console then shows from the instance's link.
#[tokio::test(flavor = "multi_thread")]
async fn editing_audit_parameters_and_reading_the_audit_stream() {
    let server = common::Server::start();
    let aws = common::aws::Aws::new(&server);
    // Seed 001 with the aws CLI: the logs policy and a role rds.amazonaws.com may assume.
    aws.write("policy.json", common::SEED_001_POLICY);
    aws.write("trust.json", RDS_TRUST);
    let policy = aws.ok(&["iam", "create-policy", "--policy-name", "RDSLogs", "--policy-document", "file://policy.json"]);
    let role = aws.ok(&["iam", "create-role", "--role-name", "RDSLogs", "--assume-role-policy-document", "file://trust.json"]);
    aws.ok(&["iam", "attach-role-policy", "--role-name", "RDSLogs", "--policy-arn", policy["Policy"]["Arn"].as_str().unwrap()]);
    let role_arn = role["Role"]["Arn"].as_str().unwrap();
    aws.ok(&[
        "rds",
        "create-db-cluster-parameter-group",
        "--db-cluster-parameter-group-name",
        "audit-params",
        "--db-parameter-group-family",
        "aurora-mysql8.0",
        "--description",
        "audit settings",
    ]);
    aws.ok(&[
        "rds",
        "modify-db-cluster-parameter-group",
        "--db-cluster-parameter-group-name",
        "audit-params",
        "--parameters",
        &format!("ParameterName=aws_default_logs_role,ParameterValue={role_arn},ApplyMethod=immediate"),
    ]);

    // Seed 000 in the console: Advanced Auditing on, for connections and queries, uploaded.
    let mut browser = Browser::start("audit-parameters", shots()).await;
    browser.sign_in(&console(&server), common::ACCESS_KEY, common::SECRET_KEY).await;
    browser.goto(&format!("{}/_trailwatch/console/#/rds/parameter-groups/audit-params", console(&server))).await;
    browser.wait_for("[name=server_audit_logging]").await;
    browser.screenshot("before").await;
    browser.select("server_audit_logging", "1").await;
    browser.select("server_audit_logs_upload", "1").await;
    browser.fill("server_audit_events", "CONNECT,QUERY").await;
    browser.fill("server_audit_excl_users", "rdsadmin").await;
    browser.click_button("Save changes").await;
    let saved = browser.wait_text(".notice", "Saved").await;
    for name in ["server_audit_events", "server_audit_excl_users", "server_audit_logging", "server_audit_logs_upload"] {
        assert!(saved.contains(name), "{saved}");
    }
    browser.screenshot("saved").await;

    // Another client reads the new values back, and a fresh load shows what the server kept.
    let params =
        aws.ok(&["rds", "describe-db-cluster-parameters", "--db-cluster-parameter-group-name", "audit-params", "--source", "user"]);
    let value = |name: &str| {
        params["Parameters"].as_array().unwrap().iter().find(|p| p["ParameterName"] == name).map(|p| p["ParameterValue"].clone())
    };
    assert_eq!(value("server_audit_logging"), Some(Value::from("1")), "{params}");
    assert_eq!(value("server_audit_events"), Some(Value::from("CONNECT,QUERY")), "{params}");
    assert_eq!(value("server_audit_excl_users"), Some(Value::from("rdsadmin")), "{params}");
    browser.client().refresh().await.unwrap();
    let logging = browser.wait_for("select[name=server_audit_logging]").await;
    assert_eq!(logging.prop("value").await.unwrap().as_deref(), Some("1"));
    let records = recorded(&server, "ModifyDBClusterParameterGroup").await;
    assert_eq!(records.len(), 2, "the CLI's and the console's: {records:?}");
    assert!(records[0]["userAgent"].as_str().unwrap().contains("Chrome"));
    assert_eq!(records[0]["requestParameters"]["dBClusterParameterGroupName"], "audit-params", "{}", records[0]);

    // A cluster on that group exporting its audit log, one instance, and a client.
    aws.ok(&[
        "rds",
        "create-db-cluster",
        "--db-cluster-identifier",
        "prod",
        "--engine",
        "aurora-mysql",
        "--master-username",
        "admin",
        "--master-user-password",
        "Master-pass-1",
        "--db-cluster-parameter-group-name",
        "audit-params",
        "--enable-cloudwatch-logs-exports",
        "audit",
    ]);
    let instance = ["rds", "create-db-instance", "--db-instance-identifier", "prod-1", "--db-cluster-identifier", "prod"];
    aws.ok(&[&instance[..], &["--engine", "aurora-mysql", "--db-instance-class", "db.r6g.large"]].concat());
    let started = std::time::Instant::now();
    let port = loop {
        let described = aws.ok(&["rds", "describe-db-instances", "--db-instance-identifier", "prod-1"]);
        let i = &described["DBInstances"][0];
        if i["DBInstanceStatus"] == "available" {
            break i["Endpoint"]["Port"].as_u64().unwrap();
        }
        assert!(started.elapsed().as_secs() < 180, "prod-1 never became available: {i}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    let sql = std::process::Command::new("mariadb")
        .args(["--protocol=TCP", "-h", "127.0.0.1", "-P", &port.to_string(), "-u", "admin", "-pMaster-pass-1"])
        .args(["-e", "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT); SELECT COUNT(*) FROM shop.orders;"])
        .output()
        .expect("the mariadb client is installed (mariadb-client)");
    assert!(sql.status.success(), "{}", String::from_utf8_lossy(&sql.stderr));

    // From the instance's page to its audit stream, where the statements are.
    browser.goto(&format!("{}/_trailwatch/console/#/rds/instances/prod-1", console(&server))).await;
    browser.wait_text(".kv", "available").await;
    browser.screenshot("instance").await;
    browser.click_link("Audit log").await;
    browser.wait_text("h1", "prod-1").await;
    browser.wait_text(".breadcrumbs", "/aws/rds/cluster/prod/audit").await;
    browser.click_button("Start live tail").await;
    let row = browser.wait_text("[data-testid=events]", "CREATE TABLE shop.orders").await;
    assert!(row.contains("admin") && row.contains("QUERY"), "{row}");
    browser.screenshot("audit-stream").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_why_view_explains_a_denial_with_the_policy_simulator() {
    let server = common::Server::start();
    let (_, secret) = user_with_policy(&server, "auditor", AUDITOR_POLICY).await;
    let mut browser = Browser::start("why", shots()).await;
    browser.sign_in(&console(&server), common::ACCESS_KEY, common::SECRET_KEY).await;

    // The user's page shows its inline policy's document and its key, never a secret.
    browser.goto(&format!("{}/_trailwatch/console/#/iam/users/auditor", console(&server))).await;
    browser.wait_text("[data-testid=inline-policies]", "logs:DeleteLogGroup").await;
    browser.wait_text("[data-testid=access-keys]", "Active").await;
    assert!(!browser.text().await.contains(&secret));

    let arn = format!("arn:aws:iam::{}:user/auditor", common::ACCOUNT);
    let why = format!(
        "{}/_trailwatch/console/#/iam/why?principal={arn}&action=logs:DeleteLogGroup,logs:CreateLogGroup,iam:CreateUser",
        console(&server)
    );
    browser.goto(&why).await;
    let results = browser.wait_text("[data-testid=why-results]", "logs:DeleteLogGroup").await;
    for line in results.lines().filter(|l| l.contains(':')) {
        if line.contains("logs:DeleteLogGroup") {
            assert!(line.contains("explicitly denied"), "{results}");
        }
        if line.contains("logs:CreateLogGroup") {
            assert!(line.contains("allowed by"), "{results}");
        }
        if line.contains("iam:CreateUser") {
            assert!(line.contains("implicit deny"), "{results}");
        }
    }
    assert!(results.contains("explicitly denied") && results.contains("allowed by") && results.contains("implicit deny"), "{results}");
    browser.screenshot("simulated").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn insights_runs_a_query_into_a_table_and_a_histogram() {
    let server = common::Server::start();
    let logs = server.logs();
    common::create_group(&logs, "/aws/rds/cluster/prod/audit", &["prod-1"]).await;
    let now = common::now_millis();
    let events: Vec<(i64, String)> = (0..40)
        .map(|i| {
            let user = if i % 4 == 0 { "mallory" } else { "alice" };
            (now - 20 * 60_000 + i * 30_000, format!(r#"{{"user":"{user}","query":"SELECT {i}"}}"#))
        })
        .collect();
    common::put_events(&logs, "/aws/rds/cluster/prod/audit", "prod-1", &events).await;

    let mut browser = Browser::start("insights", shots()).await;
    browser.sign_in(&console(&server), common::ACCESS_KEY, common::SECRET_KEY).await;
    let query = "filter user = \"mallory\" | stats count(*) as calls by bin(5m)";
    let link = format!(
        "{}/_trailwatch/console/#/insights?group=/aws/rds/cluster/prod/audit&range=1h&query={}",
        console(&server),
        query.replace(' ', "%20").replace('"', "%22").replace('|', "%7C").replace('=', "%3D")
    );
    browser.goto(&link).await;
    browser.click_button("Run query").await;
    browser.wait_text("[data-testid=query-status]", "Complete").await;
    let table = browser.wait_text("[data-testid=insights-results]", "calls").await;
    let counted: u32 = table.lines().skip(1).filter_map(|l| l.split_whitespace().last()?.parse::<u32>().ok()).sum();
    assert_eq!(counted, 10, "mallory's 10 calls across the bins: {table}");
    let bars = browser.client().find_all(testbed::browser::Locator::Css("[data-testid=histogram] rect")).await.unwrap();
    assert!(!bars.is_empty(), "the histogram has bars");
    browser.screenshot("query").await;
    let records = recorded(&server, "StartQuery").await;
    assert_eq!(records.len(), 1, "a stats query is its own histogram");
    assert_eq!(records[0]["requestParameters"]["queryString"], query);
    assert!(records[0]["userAgent"].as_str().unwrap().contains("Chrome"));

    // A query that returns only 3 rows still shows all 10 matches over time.
    browser.fill("query", "fields @timestamp, @message | filter user = \"mallory\" | limit 3").await;
    browser.click_button("Run query").await;
    browser.wait_text("[data-testid=query-status]", "Complete").await;
    let started = std::time::Instant::now();
    let total = loop {
        let total =
            browser.client().execute("return document.querySelector('[data-testid=histogram]')?.dataset.total", vec![]).await.unwrap();
        if total.as_str() == Some("10") || started.elapsed().as_secs() > 30 {
            break total;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(total.as_str(), Some("10"), "the histogram counts every match");
    assert_eq!(browser.texts("[data-testid=insights-results] tbody tr").await.len(), 3);
    browser.screenshot("histogram-of-matches").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn trails_show_their_status_and_settings() {
    let server = common::Server::start_with(&["--trail-delivery-secs", "1"]);
    let aws = common::aws::Aws::new(&server);
    assert!(aws.run(&["s3", "mb", "s3://audit-trail"]).status.success());
    aws.ok(&["cloudtrail", "create-trail", "--name", "main", "--s3-bucket-name", "audit-trail", "--enable-log-file-validation"]);
    aws.ok(&["cloudtrail", "start-logging", "--name", "main"]);
    // Something to deliver.
    server.logs().create_log_group().log_group_name("/delivered").send().await.unwrap();

    let mut browser = Browser::start("trails", shots()).await;
    browser.sign_in(&console(&server), common::ACCESS_KEY, common::SECRET_KEY).await;
    browser.goto(&format!("{}/_trailwatch/console/#/cloudtrail/trails", console(&server))).await;
    browser.wait_text("[data-testid=trails]", "audit-trail").await;
    browser.click_link("main").await;
    let settings = browser.wait_text("[data-testid=trail-settings]", "audit-trail").await;
    assert!(settings.contains("Log file validation") || settings.contains("validation"), "{settings}");
    // The first delivery shows up in the status (the page is reloaded until it does).
    let year = time::OffsetDateTime::now_utc().year().to_string();
    let started = std::time::Instant::now();
    loop {
        let status = browser.texts("[data-testid=trail-status]").await.join("\n");
        if field(&status, "Latest delivery").is_some_and(|v| v.starts_with(&year)) {
            assert_eq!(field(&status, "Logging").as_deref(), Some("Yes"), "{status}");
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "no delivery shown: {status}");
        browser.client().refresh().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    // Seed 004 in the console: CloudWatch Logs → Configure, a new group and the default role.
    browser.click_button("Configure").await;
    browser.fill("cwlLogGroup", "CloudTrail/logs").await;
    browser.screenshot("configure-logs").await;
    browser.click_button("Allow").await;
    browser.wait_text("[data-testid=trail-settings]", "CloudTrail_CloudWatchLogs_Role").await;
    let role =
        server.iam().get_role_policy().role_name("CloudTrail_CloudWatchLogs_Role").policy_name("cloudtrail-policy").send().await.unwrap();
    let policy = common::url_decoded(role.policy_document());
    assert!(policy.contains(&format!("log-group:CloudTrail/logs:log-stream:{0}_CloudTrail_us-east-1*", common::ACCOUNT)), "{policy}");
    // … then Logs, the group, its stream and an event, as the seed's last steps go.
    browser.click_link("CloudTrail/logs").await;
    let stream = format!("{}_CloudTrail_us-east-1", common::ACCOUNT);
    let started = std::time::Instant::now();
    while !browser.texts("[data-testid=log-streams]").await.join("\n").contains(&stream) {
        assert!(started.elapsed().as_secs() < 30, "CloudTrail never created its stream");
        browser.click_button("Refresh").await;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    browser.click_link(&stream).await;
    browser.click_xpath("//div[@data-testid='event'][contains(., 'UpdateTrail')]").await;
    let record = browser.wait_text("[data-testid=events] .json", "\"eventSource\"").await;
    assert!(record.contains("cloudtrail.amazonaws.com") && record.contains("Chrome"), "{record}");
    browser.screenshot("trail-event-in-logs").await;
    browser.goto(&format!("{}/_trailwatch/console/#/cloudtrail/trails/main", console(&server))).await;

    browser.click_button("Stop logging").await;
    let started = std::time::Instant::now();
    while field(&browser.texts("[data-testid=trail-status]").await.join("\n"), "Logging").as_deref() != Some("No") {
        assert!(started.elapsed().as_secs() < 30, "the page never showed logging stopped");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let status = aws.ok(&["cloudtrail", "get-trail-status", "--name", "main"]);
    assert_eq!(status["IsLogging"], false);
    browser.screenshot("trail").await;
    browser.close().await;
}

/// The value shown after a label in a `<dl>`'s text (each term and value on its own line).
fn field(text: &str, label: &str) -> Option<String> {
    let mut lines = text.lines().map(str::trim);
    lines.by_ref().find(|l| *l == label)?;
    lines.next().map(str::to_owned)
}
