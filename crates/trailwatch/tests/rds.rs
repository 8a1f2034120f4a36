//! RDS with real MariaDB servers, driven by the stock `aws` CLI and the `mariadb` client:
//! the seeds' story from the IAM role to audit records searchable in CloudWatch Logs.
//!
//! MariaDB (`mariadbd` with its server_audit plugin, and the `mariadb` client) must be
//! installed; the README's test command installs Debian's mariadb-server.

mod common;

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::aws::Aws;
use serde_json::Value;

const CLUSTER: &str = "audit-cluster";
const GROUP: &str = "/aws/rds/cluster/audit-cluster/audit";
const PASSWORD: &str = "Master-pass-1";
const RDS_TRUST: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rds.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Polls `check` every 250 ms until it returns `Some`, for at most `secs` seconds.
fn wait_for<T>(what: &str, secs: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Waits until a Describe call for one resource fails: the resource is gone.
fn wait_gone(aws: &Aws, describe: &[&str]) {
    wait_for(&format!("{} to be gone", describe[describe.len() - 1]), 60, || (!aws.run(describe).status.success()).then_some(()));
}

/// Runs SQL with the `mariadb` client over TCP.
fn sql(port: u16, user: &str, password: &str, statements: &str) -> Output {
    Command::new("mariadb")
        .args(["--protocol=TCP", "-h", "127.0.0.1", "-P", &port.to_string(), "-u", user, "--batch", "--skip-column-names"])
        .arg(format!("-p{password}"))
        .args(["-e", statements])
        .output()
        .expect("the mariadb client is installed (mariadb-client)")
}

fn sql_ok(port: u16, user: &str, password: &str, statements: &str) -> String {
    let out = sql(port, user, password, statements);
    assert!(out.status.success(), "{statements}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn set_parameters(aws: &Aws, group: &str, params: &[(&str, &str)]) {
    let mut args = vec!["rds", "modify-db-cluster-parameter-group", "--db-cluster-parameter-group-name", group, "--parameters"];
    let specs: Vec<String> =
        params.iter().map(|(n, v)| format!("ParameterName={n},ParameterValue=\"{v}\",ApplyMethod=immediate")).collect();
    args.extend(specs.iter().map(String::as_str));
    aws.ok(&args);
}

/// Waits until the instance is available; its port.
fn wait_available(aws: &Aws, id: &str) -> u16 {
    wait_for(&format!("{id} to be available"), 180, || {
        let out = aws.ok(&["rds", "describe-db-instances", "--db-instance-identifier", id]);
        let i = &out["DBInstances"][0];
        assert_ne!(i["DBInstanceStatus"], "failed", "{id} failed: {i}");
        (i["DBInstanceStatus"] == "available").then(|| i["Endpoint"]["Port"].as_u64().unwrap() as u16)
    })
}

/// The audit records in a stream, split into Aurora's ten fields.
fn records(aws: &Aws, stream: &str) -> Vec<Vec<String>> {
    let out = aws.ok(&["logs", "filter-log-events", "--log-group-name", GROUP, "--log-stream-names", stream]);
    out["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let m = e["message"].as_str().unwrap();
            let ts: i64 = m.split(',').next().unwrap().parse().unwrap_or_else(|_| panic!("timestamp in microseconds: {m}"));
            // The event's timestamp is the record's, in milliseconds.
            assert_eq!(e["timestamp"].as_i64().unwrap(), ts / 1000, "{m}");
            fields(m)
        })
        .collect()
}

/// Aurora's fields: eight without commas, the object, and the retcode after the last comma.
fn fields(m: &str) -> Vec<String> {
    let mut head: Vec<String> = m.splitn(9, ',').map(str::to_owned).collect();
    let rest = head.pop().unwrap();
    let (object, retcode) = rest.rsplit_once(',').unwrap();
    head.push(object.to_owned());
    head.push(retcode.to_owned());
    head
}

fn has(records: &[Vec<String>], user: &str, operation: &str, object: &str, retcode: &str) -> bool {
    records.iter().any(|r| r[2] == user && r[6] == operation && r[8] == object && r[9] == retcode)
}

fn wait_record(aws: &Aws, stream: &str, user: &str, operation: &str, object: &str, retcode: &str) -> Vec<Vec<String>> {
    wait_for(&format!("{operation} {object} by {user} in {stream}"), 30, || {
        let r = records(aws, stream);
        has(&r, user, operation, object, retcode).then_some(r)
    })
}

fn events_say(aws: &Aws, source: &str, needle: &str) -> bool {
    let out = aws.ok(&["rds", "describe-events", "--source-type", "db-instance", "--source-identifier", source]);
    out["Events"].as_array().unwrap().iter().any(|e| e["Message"].as_str().unwrap().contains(needle))
}

#[test]
fn the_audit_story_from_role_to_searchable_records() {
    let mut server = common::Server::start();
    let aws = Aws::new(&server);
    // Seed 001: the policy and a role rds.amazonaws.com may assume.
    aws.write("policy.json", common::SEED_001_POLICY);
    aws.write("trust.json", RDS_TRUST);
    let policy = aws.ok(&["iam", "create-policy", "--policy-name", "AmazonRDSCloudWatchLogs", "--policy-document", "file://policy.json"]);
    let policy_arn = policy["Policy"]["Arn"].as_str().unwrap().to_owned();
    let role = aws.ok(&["iam", "create-role", "--role-name", "RDSLoggingRole", "--assume-role-policy-document", "file://trust.json"]);
    let role_arn = role["Role"]["Arn"].as_str().unwrap().to_owned();
    aws.ok(&["iam", "attach-role-policy", "--role-name", "RDSLoggingRole", "--policy-arn", &policy_arn]);

    // Seed 000: a parameter group with Advanced Auditing and upload on.
    aws.ok(&[
        "rds",
        "create-db-cluster-parameter-group",
        "--db-cluster-parameter-group-name",
        "audit-pg",
        "--db-parameter-group-family",
        "aurora-mysql8.0",
        "--description",
        "advanced auditing",
    ]);
    set_parameters(
        &aws,
        "audit-pg",
        &[
            ("server_audit_logging", "1"),
            ("server_audit_events", "CONNECT,QUERY,TABLE"),
            ("server_audit_logs_upload", "1"),
            ("aws_default_logs_role", &role_arn),
        ],
    );
    let user_params =
        aws.ok(&["rds", "describe-db-cluster-parameters", "--db-cluster-parameter-group-name", "audit-pg", "--source", "user"]);
    let names: Vec<&str> = user_params["Parameters"].as_array().unwrap().iter().map(|p| p["ParameterName"].as_str().unwrap()).collect();
    assert_eq!(names, ["aws_default_logs_role", "server_audit_events", "server_audit_logging", "server_audit_logs_upload"]);

    let cluster = aws.ok(&[
        "rds",
        "create-db-cluster",
        "--db-cluster-identifier",
        CLUSTER,
        "--engine",
        "aurora-mysql",
        "--master-username",
        "admin",
        "--master-user-password",
        PASSWORD,
        "--db-cluster-parameter-group-name",
        "audit-pg",
    ]);
    assert_eq!(cluster["DBCluster"]["Status"], "creating");
    for id in ["audit-1", "audit-2"] {
        let created = aws.ok(&[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            id,
            "--db-cluster-identifier",
            CLUSTER,
            "--engine",
            "aurora-mysql",
            "--db-instance-class",
            "db.r6g.large",
        ]);
        assert_eq!(created["DBInstance"]["DBInstanceStatus"], "creating");
    }
    let port1 = wait_available(&aws, "audit-1");
    let port2 = wait_available(&aws, "audit-2");
    let described = aws.ok(&["rds", "describe-db-clusters", "--db-cluster-identifier", CLUSTER]);
    let c = &described["DBClusters"][0];
    assert_eq!(c["Status"], "available");
    assert_eq!(c["Port"].as_u64(), Some(u64::from(port1)), "the writer is the cluster's endpoint: {c}");
    let members: Vec<(&str, bool)> = c["DBClusterMembers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["DBInstanceIdentifier"].as_str().unwrap(), m["IsClusterWriter"].as_bool().unwrap()))
        .collect();
    assert_eq!(members, [("audit-1", true), ("audit-2", false)]);

    // A client at the endpoint: DDL, DML, a failed login and a denied statement.
    sql_ok(
        port1,
        "admin",
        PASSWORD,
        "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item VARCHAR(50)); \
         INSERT INTO shop.orders VALUES (1, 'it''s, \"quoted\"'); SELECT item FROM shop.orders; \
         CREATE USER 'clerk'@'%' IDENTIFIED BY 'Clerk-pass-1'; GRANT SELECT ON shop.* TO 'clerk'@'%';",
    );
    assert!(!sql(port1, "admin", "wrong-password", "SELECT 1").status.success());
    let denied = sql(port1, "clerk", "Clerk-pass-1", "DROP TABLE shop.orders");
    assert!(String::from_utf8_lossy(&denied.stderr).contains("DROP command denied"), "{denied:?}");
    sql_ok(port2, "admin", PASSWORD, "SELECT 2 AS on_the_reader");
    // The reader replicates the writer, users included, and takes no writes itself.
    let replicated = wait_for("the reader to have the writer's row", 30, || {
        let out = sql(port2, "clerk", "Clerk-pass-1", "SELECT item FROM shop.orders");
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|s| !s.is_empty())
    });
    assert_eq!(replicated, r#"it's, "quoted""#);
    let refused = sql(port2, "admin", PASSWORD, "INSERT INTO shop.orders VALUES (2, 'on the reader')");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--read-only"), "{refused:?}");

    let got = wait_record(&aws, "audit-1", "clerk", "QUERY", "'DROP TABLE shop.orders'", "1142");
    for r in &got {
        assert_eq!(r.len(), 10, "{r:?}");
        assert_eq!(r[1], "audit-1", "serverhost names the instance: {r:?}");
    }
    assert!(has(&got, "admin", "CONNECT", "", "0"));
    assert!(has(&got, "admin", "QUERY", "'CREATE DATABASE shop'", "0"));
    assert!(has(&got, "admin", "CREATE", "orders", "0"), "TABLE records carry retcode 0");
    assert!(has(&got, "admin", "WRITE", "orders", "0"));
    assert!(has(&got, "admin", "QUERY", r#"'INSERT INTO shop.orders VALUES (1, \'it\'\'s, "quoted"\')'"#, "0"));
    assert!(has(&got, "admin", "READ", "orders", "0"));
    assert!(has(&got, "admin", "QUERY", r"'CREATE USER \'clerk\'@\'%\' IDENTIFIED BY *****'", "0"), "passwords are masked");
    assert!(has(&got, "admin", "FAILED_CONNECT", "", "1045"));
    let orders = got.iter().find(|r| r[6] == "QUERY" && r[8].starts_with("'CREATE TABLE")).unwrap();
    assert_eq!(orders[7], "shop", "the database field");
    assert_eq!(orders[3], "127.0.0.1", "the client's host");
    let reader = wait_record(&aws, "audit-2", "admin", "QUERY", "'SELECT 2 AS on_the_reader'", "0");
    assert!(reader.iter().all(|r| r[1] == "audit-2"));
    assert!(records(&aws, "audit-1").iter().all(|r| r[8] != "'SELECT 2 AS on_the_reader'"), "each instance has its own stream");
    // A new group keeps events forever.
    let groups = aws.ok(&["logs", "describe-log-groups", "--log-group-name-prefix", GROUP]);
    assert_eq!(groups["logGroups"][0]["logGroupName"], GROUP);
    assert!(groups["logGroups"][0].get("retentionInDays").is_none(), "Never Expire: {groups}");

    // Fewer audited events, without a restart.
    set_parameters(&aws, "audit-pg", &[("server_audit_events", "QUERY_DDL")]);
    std::thread::sleep(Duration::from_secs(2));
    sql_ok(port1, "admin", PASSWORD, "SELECT 'not audited'; CREATE TABLE shop.audited_ddl (a INT);");
    let got = wait_record(&aws, "audit-1", "admin", "QUERY", "'CREATE TABLE shop.audited_ddl (a INT)'", "0");
    assert!(!got.iter().any(|r| r[8].contains("not audited")), "a SELECT is not DDL");
    let ddl_at = got.iter().position(|r| r[8].contains("audited_ddl")).unwrap();
    assert!(got[ddl_at..].iter().all(|r| r[6] == "QUERY"), "no CONNECT or TABLE records after the change: {:?}", &got[ddl_at..]);

    // Another log type, to a group that exists: it is used as it is.
    aws.ok(&["logs", "create-log-group", "--log-group-name", "/aws/rds/cluster/audit-cluster/error"]);
    aws.ok(&["logs", "put-retention-policy", "--log-group-name", "/aws/rds/cluster/audit-cluster/error", "--retention-in-days", "7"]);
    aws.ok(&[
        "rds",
        "modify-db-cluster",
        "--db-cluster-identifier",
        CLUSTER,
        "--cloudwatch-logs-export-configuration",
        "EnableLogTypes=error",
    ]);
    std::thread::sleep(Duration::from_secs(2));
    assert!(!sql(port1, "admin", "another-wrong-one", "SELECT 1").status.success());
    wait_for("the error log's access-denied line", 30, || {
        let out = aws.ok(&[
            "logs",
            "filter-log-events",
            "--log-group-name",
            "/aws/rds/cluster/audit-cluster/error",
            "--log-stream-names",
            "audit-1",
        ]);
        out["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("Access denied for user 'admin'"))
            .then_some(())
    });
    let error_group = aws.ok(&["logs", "describe-log-groups", "--log-group-name-prefix", "/aws/rds/cluster/audit-cluster/error"]);
    assert_eq!(error_group["logGroups"][0]["retentionInDays"], 7);

    // A role without the seed's permissions: reported through events, and retried.
    aws.ok(&["iam", "detach-role-policy", "--role-name", "RDSLoggingRole", "--policy-arn", &policy_arn]);
    sql_ok(port1, "admin", PASSWORD, "CREATE TABLE shop.while_denied (a INT)");
    wait_for("an event about the role", 30, || events_say(&aws, "audit-1", "does not allow publishing logs").then_some(()));
    assert!(!has(&records(&aws, "audit-1"), "admin", "QUERY", "'CREATE TABLE shop.while_denied (a INT)'", "0"));
    aws.ok(&["iam", "attach-role-policy", "--role-name", "RDSLoggingRole", "--policy-arn", &policy_arn]);
    wait_record(&aws, "audit-1", "admin", "QUERY", "'CREATE TABLE shop.while_denied (a INT)'", "0");
    wait_for("an event that publishing resumed", 30, || events_say(&aws, "audit-1", "has resumed").then_some(()));

    // Upload off: nothing more is published, nothing is deleted.
    set_parameters(&aws, "audit-pg", &[("server_audit_logs_upload", "0")]);
    std::thread::sleep(Duration::from_secs(2));
    sql_ok(port1, "admin", PASSWORD, "CREATE TABLE shop.upload_off (a INT)");
    std::thread::sleep(Duration::from_secs(3));
    let kept = records(&aws, "audit-1");
    assert!(!has(&kept, "admin", "QUERY", "'CREATE TABLE shop.upload_off (a INT)'", "0"));
    assert!(has(&kept, "admin", "QUERY", "'CREATE TABLE shop.while_denied (a INT)'", "0"));
    set_parameters(&aws, "audit-pg", &[("server_audit_logs_upload", "1")]);

    // No role, no streaming; an event says why.
    set_parameters(&aws, "audit-pg", &[("aws_default_logs_role", "")]);
    wait_for("an event about the missing role", 30, || events_say(&aws, "audit-1", "aws_default_logs_role is not set").then_some(()));
    sql_ok(port1, "admin", PASSWORD, "CREATE TABLE shop.without_role (a INT)");
    std::thread::sleep(Duration::from_secs(3));
    assert!(!has(&records(&aws, "audit-1"), "admin", "QUERY", "'CREATE TABLE shop.without_role (a INT)'", "0"));

    // A restart of trailwatch brings the instances back, data and all.
    set_parameters(&aws, "audit-pg", &[("aws_default_logs_role", &role_arn)]);
    std::thread::sleep(Duration::from_secs(2));
    server.stop();
    assert!(sql(port1, "admin", PASSWORD, "SELECT 1").status.code() != Some(0), "the servers stop with trailwatch");
    server.restart();
    let aws = Aws::new(&server);
    assert_eq!(wait_available(&aws, "audit-1"), port1);
    assert_eq!(sql_ok(port1, "admin", PASSWORD, "SELECT item FROM shop.orders").trim(), r#"it's, "quoted""#);
    sql_ok(port1, "admin", PASSWORD, "CREATE TABLE shop.after_restart (a INT)");
    wait_record(&aws, "audit-1", "admin", "QUERY", "'CREATE TABLE shop.after_restart (a INT)'", "0");
    assert_eq!(wait_available(&aws, "audit-2"), port2);
    wait_for("the reader to replicate again", 30, || {
        sql(port2, "admin", PASSWORD, "SELECT COUNT(*) FROM shop.after_restart").status.success().then_some(())
    });

    // The writer deleted: the reader takes over, and the writer's events outlive it.
    aws.ok(&["rds", "delete-db-instance", "--db-instance-identifier", "audit-1"]);
    wait_gone(&aws, &["rds", "describe-db-instances", "--db-instance-identifier", "audit-1"]);
    assert!(has(&records(&aws, "audit-1"), "admin", "QUERY", "'CREATE TABLE shop.after_restart (a INT)'", "0"));
    let cluster = aws.ok(&["rds", "describe-db-clusters", "--db-cluster-identifier", CLUSTER]);
    let c = &cluster["DBClusters"][0];
    assert_eq!(c["DBClusterMembers"][0]["DBInstanceIdentifier"], "audit-2");
    assert_eq!(c["DBClusterMembers"][0]["IsClusterWriter"], true);
    assert_eq!(c["Port"].as_u64(), Some(u64::from(port2)));
    // It takes writes now (only DDL is audited at this point).
    sql_ok(port2, "admin", PASSWORD, "INSERT INTO shop.orders VALUES (3, 'after failover'); CREATE TABLE shop.after_failover (a INT);");
    wait_record(&aws, "audit-2", "admin", "QUERY", "'CREATE TABLE shop.after_failover (a INT)'", "0");
    let events = aws.ok(&["rds", "describe-events", "--source-type", "db-cluster", "--source-identifier", CLUSTER]);
    let messages: Vec<&str> = events["Events"].as_array().unwrap().iter().map(|e| e["Message"].as_str().unwrap()).collect();
    assert!(messages.contains(&"Completed failover to DB instance: audit-2"), "{messages:?}");
}

#[test]
fn standalone_instances_snapshots_and_their_trail() {
    let server = common::Server::start();
    let aws = Aws::new(&server);
    // Seed 002: a MySQL instance with log exports; the password never shows.
    let secret = "Unique-secret-4711";
    let created = aws.ok(&[
        "rds",
        "create-db-instance",
        "--db-instance-identifier",
        "test-instance",
        "--engine",
        "mysql",
        "--db-instance-class",
        "db.m1.small",
        "--master-username",
        "myawsuser",
        "--master-user-password",
        secret,
        "--allocated-storage",
        "20",
        "--db-name",
        "inventory",
        "--enable-cloudwatch-logs-exports",
        "audit",
        "error",
        "general",
        "slowquery",
    ]);
    let i = &created["DBInstance"];
    assert_eq!(i["DBInstanceStatus"], "creating");
    assert_eq!(i["PendingModifiedValues"]["MasterUserPassword"], "****");
    assert_eq!(i["PendingModifiedValues"]["PendingCloudwatchLogsExports"]["LogTypesToEnable"].as_array().unwrap().len(), 4);
    let port = wait_available(&aws, "test-instance");
    assert_eq!(sql_ok(port, "myawsuser", secret, "SELECT DATABASE() FROM DUAL; USE inventory; SELECT 1").lines().count(), 2);
    sql_ok(port, "myawsuser", secret, "CREATE TABLE inventory.items (sku INT); INSERT INTO inventory.items VALUES (42);");
    // Its logs go to /aws/rds/instance/NAME/TYPE through RDS's service-linked role.
    let messages = |group: &str| -> Vec<String> {
        let out = aws.ok(&["logs", "filter-log-events", "--log-group-name", group, "--log-stream-names", "test-instance"]);
        out["events"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap().to_owned()).collect()
    };
    let audited =
        |m: &String| m.contains(",test-instance,myawsuser,127.0.0.1,") && m.contains("'CREATE TABLE inventory.items (sku INT)',0");
    wait_for("the standalone instance's audit record", 30, || {
        let got = aws.run(&["logs", "filter-log-events", "--log-group-name", "/aws/rds/instance/test-instance/audit"]);
        (got.status.success() && messages("/aws/rds/instance/test-instance/audit").iter().any(audited)).then_some(())
    });
    wait_for("the general log's INSERT", 30, || {
        let got = aws.run(&["logs", "filter-log-events", "--log-group-name", "/aws/rds/instance/test-instance/general"]);
        (got.status.success()
            && messages("/aws/rds/instance/test-instance/general").iter().any(|m| m.contains("INSERT INTO inventory.items VALUES (42)")))
        .then_some(())
    });
    assert!(messages("/aws/rds/instance/test-instance/error").iter().any(|m| m.contains("ready for connections")));

    // A new master password, then a reboot: the data stays.
    let modified = aws.ok(&[
        "rds",
        "modify-db-instance",
        "--db-instance-identifier",
        "test-instance",
        "--master-user-password",
        "Second-secret-9",
        "--apply-immediately",
    ]);
    assert_eq!(modified["DBInstance"]["DBInstanceStatus"], "modifying");
    assert_eq!(modified["DBInstance"]["PendingModifiedValues"]["MasterUserPassword"], "****");
    wait_available(&aws, "test-instance");
    wait_for("the new password", 30, || sql(port, "myawsuser", "Second-secret-9", "SELECT 1").status.success().then_some(()));
    assert!(!sql(port, "myawsuser", secret, "SELECT 1").status.success(), "the old password no longer works");
    let rebooting = aws.ok(&["rds", "reboot-db-instance", "--db-instance-identifier", "test-instance"]);
    assert_eq!(rebooting["DBInstance"]["DBInstanceStatus"], "rebooting");
    assert_eq!(wait_available(&aws, "test-instance"), port);
    assert_eq!(sql_ok(port, "myawsuser", "Second-secret-9", "SELECT sku FROM inventory.items").trim(), "42");
    assert!(events_say(&aws, "test-instance", "DB instance restarted"));

    // Seed 003: a snapshot, then the instance deleted.
    let snap =
        aws.ok(&["rds", "create-db-snapshot", "--db-instance-identifier", "test-instance", "--db-snapshot-identifier", "before-delete"]);
    assert_eq!(snap["DBSnapshot"]["Status"], "creating");
    wait_for("the snapshot", 60, || {
        let out = aws.ok(&["rds", "describe-db-snapshots", "--db-snapshot-identifier", "before-delete"]);
        (out["DBSnapshots"][0]["Status"] == "available").then_some(())
    });
    aws.fails(
        &["rds", "create-db-snapshot", "--db-instance-identifier", "test-instance", "--db-snapshot-identifier", "before-delete"],
        "DBSnapshotAlreadyExists",
        "CreateDBSnapshot",
        "Cannot create the snapshot because a snapshot with the identifier before-delete already exists.",
    );
    wait_available(&aws, "test-instance");
    aws.fails(
        &["rds", "delete-db-instance", "--db-instance-identifier", "test-instance"],
        "InvalidParameterCombination",
        "DeleteDBInstance",
        "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.",
    );
    let deleting =
        aws.ok(&["rds", "delete-db-instance", "--db-instance-identifier", "test-instance", "--final-db-snapshot-identifier", "final"]);
    assert_eq!(deleting["DBInstance"]["DBInstanceStatus"], "deleting");
    wait_gone(&aws, &["rds", "describe-db-instances", "--db-instance-identifier", "test-instance"]);
    aws.fails(
        &["rds", "describe-db-instances", "--db-instance-identifier", "test-instance"],
        "DBInstanceNotFound",
        "DescribeDBInstances",
        "DBInstance test-instance not found.",
    );
    let snaps = aws.ok(&["rds", "describe-db-snapshots"]);
    let ids: Vec<&str> = snaps["DBSnapshots"].as_array().unwrap().iter().map(|s| s["DBSnapshotIdentifier"].as_str().unwrap()).collect();
    assert_eq!(ids, ["before-delete", "final"]);
    // The dumps are sealed: the table's rows are nowhere in clear, nor is the password.
    assert!(common::files_containing(&server.data_dir, b"INSERT INTO `items`").is_empty());
    assert!(common::files_containing(&server.data_dir, secret.as_bytes()).is_empty());
    let deleted = aws.ok(&["rds", "delete-db-snapshot", "--db-snapshot-identifier", "before-delete"]);
    assert_eq!(deleted["DBSnapshot"]["Status"], "deleted");

    // Seeds 002 and 003 in event history.
    let lookup = |name: &str| -> Value {
        let out = aws.ok(&["cloudtrail", "lookup-events", "--lookup-attributes", &format!("AttributeKey=EventName,AttributeValue={name}")]);
        let e = &out["Events"][0];
        assert!(e.is_object(), "no {name} in event history: {out}");
        serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap()
    };
    let create = lookup("CreateDBInstance");
    assert_eq!(create["eventSource"], "rds.amazonaws.com");
    assert_eq!(create["requestParameters"]["masterUserPassword"], "****");
    assert_eq!(create["requestParameters"]["dBInstanceIdentifier"], "test-instance");
    assert!(!create.to_string().contains(secret));
    assert!(!lookup("ModifyDBInstance").to_string().contains("Second-secret-9"));
    assert_eq!(lookup("CreateDBSnapshot")["requestParameters"]["dBSnapshotIdentifier"], "before-delete");
    assert_eq!(lookup("DeleteDBInstance")["requestParameters"]["dBInstanceIdentifier"], "test-instance");
}

#[test]
fn bad_requests_get_rds_errors_and_change_nothing() {
    let server = common::Server::start();
    let aws = Aws::new(&server);
    aws.fails(
        &["rds", "describe-db-clusters", "--db-cluster-identifier", "nope"],
        "DBClusterNotFoundFault",
        "DescribeDBClusters",
        "DBCluster nope not found.",
    );
    aws.fails(
        &["rds", "describe-db-cluster-parameters", "--db-cluster-parameter-group-name", "nope"],
        "DBParameterGroupNotFound",
        "DescribeDBClusterParameters",
        "DBClusterParameterGroup not found: nope",
    );
    aws.ok(&[
        "rds",
        "create-db-cluster-parameter-group",
        "--db-cluster-parameter-group-name",
        "Audit",
        "--db-parameter-group-family",
        "aurora-mysql8.0",
        "--description",
        "d",
    ]);
    aws.fails(
        &[
            "rds",
            "create-db-cluster-parameter-group",
            "--db-cluster-parameter-group-name",
            "audit",
            "--db-parameter-group-family",
            "aurora-mysql8.0",
            "--description",
            "d",
        ],
        "DBParameterGroupAlreadyExists",
        "CreateDBClusterParameterGroup",
        "Parameter group audit already exists",
    );
    let bad = |params: &str, message: &str| {
        aws.fails(
            &[
                "rds",
                "modify-db-cluster-parameter-group",
                "--db-cluster-parameter-group-name",
                "audit",
                "--parameters",
                "ParameterName=server_audit_logging,ParameterValue=1,ApplyMethod=immediate",
                params,
            ],
            "InvalidParameterValue",
            "ModifyDBClusterParameterGroup",
            message,
        );
    };
    bad("ParameterName=no_such_parameter,ParameterValue=1,ApplyMethod=immediate", "Could not find parameter with name: no_such_parameter");
    bad(
        "ParameterName=server_audit_events,ParameterValue=SELECT,ApplyMethod=immediate",
        "Value: SELECT is not a valid value for parameter: server_audit_events",
    );
    bad(
        "ParameterName=server_audit_logs_upload,ParameterValue=yes,ApplyMethod=immediate",
        "Value: yes is not a valid value for parameter: server_audit_logs_upload",
    );
    // Nothing of a refused request was applied.
    let user = aws.ok(&["rds", "describe-db-cluster-parameters", "--db-cluster-parameter-group-name", "audit", "--source", "user"]);
    assert_eq!(user["Parameters"].as_array().unwrap().len(), 0, "{user}");
    aws.fails(
        &[
            "rds",
            "create-db-cluster",
            "--db-cluster-identifier",
            "c1",
            "--engine",
            "aurora-mysql",
            "--master-username",
            "admin",
            "--master-user-password",
            "short",
        ],
        "InvalidParameterValue",
        "CreateDBCluster",
        "The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.",
    );
    aws.fails(
        &["rds", "create-db-cluster", "--db-cluster-identifier", "1bad", "--engine", "aurora-mysql", "--master-username", "admin", "--master-user-password", PASSWORD],
        "InvalidParameterValue",
        "CreateDBCluster",
        "The parameter DBClusterIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.",
    );
    aws.fails(
        &[
            "rds",
            "create-db-instance",
            "--db-instance-identifier",
            "i1",
            "--db-cluster-identifier",
            "nope",
            "--engine",
            "aurora-mysql",
            "--db-instance-class",
            "db.r6g.large",
        ],
        "DBClusterNotFoundFault",
        "CreateDBInstance",
        "DBCluster nope not found.",
    );
    aws.fails(
        &["rds", "create-db-instance", "--db-instance-identifier", "i1", "--engine", "postgres", "--db-instance-class", "db.t3.micro"],
        "InvalidParameterValue",
        "CreateDBInstance",
        "Invalid DB engine: postgres",
    );
    let none = aws.ok(&["rds", "describe-db-instances"]);
    assert_eq!(none["DBInstances"].as_array().unwrap().len(), 0);
    let none = aws.ok(&["rds", "describe-db-clusters"]);
    assert_eq!(none["DBClusters"].as_array().unwrap().len(), 0);
    // Parameters set, then reset one by one and all at once.
    set_parameters(&aws, "audit", &[("server_audit_logging", "1"), ("server_audit_events", "CONNECT"), ("general_log", "1")]);
    aws.ok(&[
        "rds",
        "reset-db-cluster-parameter-group",
        "--db-cluster-parameter-group-name",
        "audit",
        "--parameters",
        "ParameterName=general_log,ApplyMethod=immediate",
    ]);
    let user = aws.ok(&["rds", "describe-db-cluster-parameters", "--db-cluster-parameter-group-name", "audit", "--source", "user"]);
    assert_eq!(user["Parameters"].as_array().unwrap().len(), 2, "{user}");
    aws.ok(&["rds", "reset-db-cluster-parameter-group", "--db-cluster-parameter-group-name", "audit", "--reset-all-parameters"]);
    let user = aws.ok(&["rds", "describe-db-cluster-parameters", "--db-cluster-parameter-group-name", "audit", "--source", "user"]);
    assert_eq!(user["Parameters"].as_array().unwrap().len(), 0, "{user}");

    // A cluster without instances: roles come and go, and it can be deleted.
    aws.ok(&[
        "rds",
        "create-db-cluster",
        "--db-cluster-identifier",
        "c1",
        "--engine",
        "aurora-mysql",
        "--master-username",
        "admin",
        "--master-user-password",
        PASSWORD,
        "--db-cluster-parameter-group-name",
        "audit",
    ]);
    let role = "arn:aws:iam::111122223333:role/S3Import";
    aws.ok(&["rds", "add-role-to-db-cluster", "--db-cluster-identifier", "c1", "--role-arn", role]);
    aws.fails(
        &["rds", "add-role-to-db-cluster", "--db-cluster-identifier", "c1", "--role-arn", role],
        "DBClusterRoleAlreadyExists",
        "AddRoleToDBCluster",
        &format!("Role ARN {role} is already associated with DB Cluster c1"),
    );
    let c = aws.ok(&["rds", "describe-db-clusters", "--db-cluster-identifier", "c1"]);
    assert_eq!(c["DBClusters"][0]["AssociatedRoles"][0]["RoleArn"], role);
    aws.fails(
        &["rds", "delete-db-cluster-parameter-group", "--db-cluster-parameter-group-name", "audit"],
        "InvalidDBParameterGroupState",
        "DeleteDBClusterParameterGroup",
        "Cannot delete parameter group audit because it is in use by a DB cluster",
    );
    aws.ok(&["rds", "remove-role-from-db-cluster", "--db-cluster-identifier", "c1", "--role-arn", role]);
    aws.fails(
        &["rds", "remove-role-from-db-cluster", "--db-cluster-identifier", "c1", "--role-arn", role],
        "DBClusterRoleNotFound",
        "RemoveRoleFromDBCluster",
        &format!("Role ARN {role} cannot be found for DB Cluster: c1"),
    );
    aws.fails(
        &["rds", "delete-db-cluster", "--db-cluster-identifier", "c1"],
        "InvalidParameterCombination",
        "DeleteDBCluster",
        "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.",
    );
    aws.ok(&["rds", "delete-db-cluster", "--db-cluster-identifier", "c1", "--skip-final-snapshot"]);
    wait_gone(&aws, &["rds", "describe-db-clusters", "--db-cluster-identifier", "c1"]);
    aws.fails(
        &["rds", "delete-db-cluster-parameter-group", "--db-cluster-parameter-group-name", "default.aurora-mysql8.0"],
        "InvalidDBParameterGroupState",
        "DeleteDBClusterParameterGroup",
        "Default parameter groups cannot be deleted",
    );
    aws.ok(&["rds", "delete-db-cluster-parameter-group", "--db-cluster-parameter-group-name", "audit"]);
}
