//! IAM, STS and policy evaluation against the real binary, with aws-sdk-iam, aws-sdk-sts
//! and aws-sdk-cloudwatchlogs: every call is authorized by the caller's policies, and the
//! seeds' policy documents mean what they mean on AWS.

mod common;

use aws_sdk_cloudwatchlogs::Client as Logs;
use aws_sdk_iam::Client as Iam;
use aws_sdk_iam::error::ProvideErrorMetadata;
use common::{ACCOUNT, SEED_001_POLICY, SEED_004_TRUST, Server};

/// A user with its own access key, and clients signing as it.
struct User {
    name: String,
    access_key: String,
    secret: String,
}

impl User {
    async fn create(iam: &Iam, name: &str) -> User {
        iam.create_user().user_name(name).send().await.unwrap();
        let key = iam.create_access_key().user_name(name).send().await.unwrap().access_key.unwrap();
        User { name: name.to_owned(), access_key: key.access_key_id, secret: key.secret_access_key }
    }

    fn config(&self, server: &Server) -> aws_config::SdkConfig {
        server.sdk_config_with(&self.access_key, &self.secret, None)
    }

    fn logs(&self, server: &Server) -> Logs {
        Logs::new(&self.config(server))
    }

    fn iam(&self, server: &Server) -> Iam {
        Iam::new(&self.config(server))
    }

    fn sts(&self, server: &Server) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config(server))
    }

    fn arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{}", self.name)
    }
}

fn allow(actions: &str, resource: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{actions},"Resource":"{resource}"}}]}}"#)
}

fn trust_user(user_arn: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{user_arn}"}},"Action":"sts:AssumeRole"}}]}}"#)
}

/// The error code and message of a failed SDK call.
fn code_and_message<E: ProvideErrorMetadata>(e: &E) -> (String, String) {
    (e.code().unwrap_or_default().to_owned(), e.message().unwrap_or_default().to_owned())
}

fn logs_error<O: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<O, aws_sdk_cloudwatchlogs::error::SdkError<E>>,
) -> (String, String) {
    let e = r.expect_err("the call must fail");
    let svc = e.as_service_error().unwrap_or_else(|| panic!("a service error, got {e:?}"));
    code_and_message(svc)
}

fn iam_error<O: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<O, aws_sdk_iam::error::SdkError<E>>,
) -> (String, String) {
    let e = r.expect_err("the call must fail");
    let status = e.raw_response().map(|r| r.status().as_u16());
    let svc = e.as_service_error().unwrap_or_else(|| panic!("a service error, got {e:?}"));
    let (code, message) = code_and_message(svc);
    (format!("{code}/{}", status.unwrap_or(0)), message)
}

/// Assumes a role with a user's credentials and returns a config signing as the session.
async fn assume(server: &Server, user: &User, role_arn: &str, policy: Option<&str>) -> aws_config::SdkConfig {
    let out = user
        .sts(server)
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("test-session")
        .set_policy(policy.map(str::to_owned))
        .send()
        .await
        .unwrap();
    let c = out.credentials.unwrap();
    assert!(c.access_key_id.starts_with("ASIA"), "temporary keys start with ASIA: {}", c.access_key_id);
    server.sdk_config_session(&c.access_key_id, &c.secret_access_key, &c.session_token)
}

/// A role trusting `user`, with `policy` attached as a customer managed policy.
async fn role_with_policy(iam: &Iam, user: &User, role: &str, policy: &str) -> String {
    let role_arn =
        iam.create_role().role_name(role).assume_role_policy_document(trust_user(&user.arn())).send().await.unwrap().role.unwrap().arn;
    let policy_arn = iam
        .create_policy()
        .policy_name(format!("{role}-policy"))
        .policy_document(policy)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap()
        .arn
        .unwrap();
    iam.attach_role_policy().role_name(role).policy_arn(&policy_arn).send().await.unwrap();
    iam.put_user_policy()
        .user_name(&user.name)
        .policy_name("assume")
        .policy_document(allow(r#""sts:AssumeRole""#, &role_arn))
        .send()
        .await
        .unwrap();
    role_arn
}

#[tokio::test]
async fn seed_001_policy_allows_exactly_its_six_actions_on_rds_log_groups() {
    let server = Server::start();
    let iam = server.iam();
    let user = User::create(&iam, "aurora-operator").await;
    let role_arn = role_with_policy(&iam, &user, "RDSLoggingRole", SEED_001_POLICY).await;
    let session = Logs::new(&assume(&server, &user, &role_arn, None).await);
    let root = server.logs();

    let group = "/aws/rds/cluster/audit-demo/audit";
    session.create_log_group().log_group_name(group).send().await.expect("CreateLogGroup on * is allowed");
    session.create_log_stream().log_group_name(group).log_stream_name("instance-1").send().await.expect("CreateLogStream allowed");
    session.describe_log_streams().log_group_name(group).send().await.expect("DescribeLogStreams allowed");
    session.put_retention_policy().log_group_name(group).retention_in_days(30).send().await.expect("PutRetentionPolicy allowed");
    let event =
        aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(common::now_millis()).message("QUERY,ok").build().unwrap();
    session
        .put_log_events()
        .log_group_name(group)
        .log_stream_name("instance-1")
        .log_events(event.clone())
        .send()
        .await
        .expect("PutLogEvents allowed");
    session.get_log_events().log_group_name(group).log_stream_name("instance-1").send().await.expect("GetLogEvents allowed");

    // Everything else is an implicit deny, with AWS's message, and changes nothing.
    let (code, message) = logs_error(session.delete_log_group().log_group_name(group).send().await);
    assert_eq!(code, "AccessDeniedException");
    assert_eq!(
        message,
        format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/RDSLoggingRole/test-session is not authorized to perform: logs:DeleteLogGroup on resource: arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}:log-stream: because no identity-based policy allows the logs:DeleteLogGroup action"
        )
    );
    assert_eq!(root.describe_log_groups().log_group_name_prefix(group).send().await.unwrap().log_groups().len(), 1, "the group survived");
    for denied in [
        logs_error(session.describe_log_groups().send().await),
        logs_error(session.filter_log_events().log_group_name(group).send().await),
        logs_error(session.delete_retention_policy().log_group_name(group).send().await),
        logs_error(session.delete_log_stream().log_group_name(group).log_stream_name("instance-1").send().await),
    ] {
        assert_eq!(denied.0, "AccessDeniedException", "{denied:?}");
    }

    // Outside /aws/rds/ only CreateLogGroup (Resource "*") is allowed.
    session.create_log_group().log_group_name("/app/other").send().await.expect("CreateLogGroup anywhere");
    let (code, message) = logs_error(session.create_log_stream().log_group_name("/app/other").log_stream_name("s").send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.contains("logs:CreateLogStream on resource: arn:aws:logs:us-east-1:111122223333:log-group:/app/other:log-stream:s"),
        "{message}"
    );
    root.create_log_stream().log_group_name("/app/other").log_stream_name("s").send().await.unwrap();
    let (code, _) = logs_error(session.put_log_events().log_group_name("/app/other").log_stream_name("s").log_events(event).send().await);
    assert_eq!(code, "AccessDeniedException");
    let stored = common::read_stream(&root, "/app/other", "s").await;
    assert!(stored.is_empty(), "a denied PutLogEvents stores nothing: {stored:?}");
}

#[tokio::test]
async fn seed_004_trust_policy_lets_no_user_assume_the_cloudtrail_role() {
    let server = Server::start();
    let iam = server.iam();
    let role = iam
        .create_role()
        .role_name("CloudTrail_CloudWatchLogs_Role")
        .assume_role_policy_document(SEED_004_TRUST)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let admin = User::create(&iam, "admin").await;
    iam.attach_user_policy().user_name("admin").policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").send().await.unwrap();

    let e = admin.sts(&server).assume_role().role_arn(&role.arn).role_session_name("try").send().await.expect_err("not trusted");
    let (code, message) = code_and_message(e.as_service_error().unwrap());
    assert_eq!(code, "AccessDenied");
    assert_eq!(message, format!("User: {} is not authorized to perform: sts:AssumeRole on resource: {}", admin.arn(), role.arn));

    let e = server.sts().assume_role().role_arn(&role.arn).role_session_name("try").send().await.expect_err("root cannot assume roles");
    assert_eq!(code_and_message(e.as_service_error().unwrap()).1, "Roles may not be assumed by root accounts.");

    // A role trusting the user directly can be assumed; one that does not exist cannot.
    iam.create_role().role_name("trusts-admin").assume_role_policy_document(trust_user(&admin.arn())).send().await.unwrap();
    let arn = format!("arn:aws:iam::{ACCOUNT}:role/trusts-admin");
    admin.sts(&server).assume_role().role_arn(&arn).role_session_name("ok").send().await.expect("trusted and allowed");
    let missing = format!("arn:aws:iam::{ACCOUNT}:role/nope");
    let e = admin.sts(&server).assume_role().role_arn(&missing).role_session_name("try").send().await.expect_err("no such role");
    assert_eq!(code_and_message(e.as_service_error().unwrap()).0, "AccessDenied");
}

#[tokio::test]
async fn logs_read_only_user_reads_but_cannot_write() {
    let server = Server::start();
    let iam = server.iam();
    let root = server.logs();
    common::create_group(&root, "/app/web", &["a"]).await;
    common::put_events(&root, "/app/web", "a", &[(common::now_millis(), "hello".to_owned())]).await;
    let reader = User::create(&iam, "reader").await;
    iam.attach_user_policy().user_name("reader").policy_arn("arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess").send().await.unwrap();
    let logs = reader.logs(&server);

    assert_eq!(logs.describe_log_groups().send().await.unwrap().log_groups().len(), 1);
    assert_eq!(common::read_stream(&logs, "/app/web", "a").await.len(), 1);
    assert_eq!(logs.filter_log_events().log_group_name("/app/web").send().await.unwrap().events().len(), 1);
    assert_eq!(
        logs.list_tags_for_resource()
            .resource_arn(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/web"))
            .send()
            .await
            .unwrap()
            .tags()
            .map_or(0, |t| t.len()),
        0
    );

    let (code, message) = logs_error(logs.create_log_group().log_group_name("/app/new").send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(message.starts_with(&format!("User: {} is not authorized to perform: logs:CreateLogGroup", reader.arn())), "{message}");
    assert_eq!(logs_error(logs.delete_log_group().log_group_name("/app/web").send().await).0, "AccessDeniedException");
    let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(common::now_millis()).message("x").build().unwrap();
    assert_eq!(
        logs_error(logs.put_log_events().log_group_name("/app/web").log_stream_name("a").log_events(event).send().await).0,
        "AccessDeniedException"
    );
    let groups = root.describe_log_groups().send().await.unwrap();
    assert_eq!(groups.log_groups().len(), 1, "nothing was created or deleted");
    assert_eq!(common::read_stream(&root, "/app/web", "a").await.len(), 1, "nothing was written");

    // IAM itself is closed to this user.
    let (code, message) = iam_error(reader.iam(&server).list_users().send().await);
    assert_eq!(code, "AccessDenied/403");
    assert!(message.contains("iam:ListUsers"), "{message}");
}

#[tokio::test]
async fn explicit_deny_beats_every_allow() {
    let server = Server::start();
    let iam = server.iam();
    let user = User::create(&iam, "almost-admin").await;
    iam.attach_user_policy().user_name(&user.name).policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").send().await.unwrap();
    iam.create_group().group_name("no-deleters").send().await.unwrap();
    iam.add_user_to_group().group_name("no-deleters").user_name(&user.name).send().await.unwrap();
    let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"logs:Delete*","Resource":"*"}}"#;
    iam.put_group_policy().group_name("no-deleters").policy_name("deny-delete").policy_document(deny).send().await.unwrap();
    let logs = user.logs(&server);

    logs.create_log_group().log_group_name("g").send().await.expect("admin may create");
    let (code, message) = logs_error(logs.delete_log_group().log_group_name("g").send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(message.ends_with("with an explicit deny in an identity-based policy"), "{message}");
    assert_eq!(server.logs().describe_log_groups().send().await.unwrap().log_groups().len(), 1);

    // Leaving the group lifts the deny.
    iam.remove_user_from_group().group_name("no-deleters").user_name(&user.name).send().await.unwrap();
    logs.delete_log_group().log_group_name("g").send().await.expect("no deny any more");
}

#[tokio::test]
async fn conditions_on_source_ip_and_current_time_decide() {
    let server = Server::start();
    let iam = server.iam();
    let user = User::create(&iam, "conditional").await;
    let logs = user.logs(&server);
    let with_condition = |condition: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"logs:DescribeLogGroups","Resource":"*","Condition":{condition}}}]}}"#
        )
    };
    let put = |doc: String| {
        let iam = iam.clone();
        async move { iam.put_user_policy().user_name("conditional").policy_name("p").policy_document(doc).send().await.unwrap() }
    };

    put(with_condition(r#"{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}"#)).await;
    logs.describe_log_groups().send().await.expect("from loopback");
    put(with_condition(r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}"#)).await;
    assert_eq!(logs_error(logs.describe_log_groups().send().await).0, "AccessDeniedException");
    put(with_condition(r#"{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#)).await;
    logs.describe_log_groups().send().await.expect("not from 10/8");

    put(with_condition(r#"{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#)).await;
    logs.describe_log_groups().send().await.expect("after 2020");
    put(with_condition(r#"{"DateLessThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#)).await;
    assert_eq!(logs_error(logs.describe_log_groups().send().await).0, "AccessDeniedException");
    put(with_condition(r#"{"Bool":{"aws:SecureTransport":"true"}}"#)).await;
    assert_eq!(logs_error(logs.describe_log_groups().send().await).0, "AccessDeniedException", "plain HTTP is not secure transport");
}

#[tokio::test]
async fn policy_variables_and_tags_scope_access() {
    let server = Server::start();
    let iam = server.iam();
    let root = server.logs();
    for g in ["/home/alice/app", "/home/bob/app"] {
        common::create_group(&root, g, &["s"]).await;
    }
    let alice = User::create(&iam, "alice").await;
    let own = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:PutLogEvents","logs:GetLogEvents"],"Resource":"arn:aws:logs:*:*:log-group:/home/${aws:username}/*"}]}"#;
    iam.put_user_policy().user_name("alice").policy_name("own").policy_document(own).send().await.unwrap();
    let logs = alice.logs(&server);
    common::put_events(&logs, "/home/alice/app", "s", &[(common::now_millis(), "mine".to_owned())]).await;
    assert_eq!(
        logs_error(logs.get_log_events().log_group_name("/home/bob/app").log_stream_name("s").send().await).0,
        "AccessDeniedException"
    );

    // aws:ResourceTag: alice may tag-gate a group she does not own by name.
    root.tag_resource()
        .resource_arn(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/home/bob/app"))
        .tags("team", "alice-team")
        .send()
        .await
        .unwrap();
    let tagged = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:GetLogEvents","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"}}}]}"#;
    iam.put_user_policy().user_name("alice").policy_name("team").policy_document(tagged).send().await.unwrap();
    assert_eq!(
        logs_error(logs.get_log_events().log_group_name("/home/bob/app").log_stream_name("s").send().await).0,
        "AccessDeniedException",
        "alice has no team tag yet"
    );
    iam.tag_user()
        .user_name("alice")
        .tags(aws_sdk_iam::types::Tag::builder().key("team").value("alice-team").build().unwrap())
        .send()
        .await
        .unwrap();
    logs.get_log_events().log_group_name("/home/bob/app").log_stream_name("s").send().await.expect("team tags match");

    // aws:RequestTag: creating a group is allowed only with the right tag.
    let create = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:CreateLogGroup","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/owner":"alice"}}}]}"#;
    iam.put_user_policy().user_name("alice").policy_name("create").policy_document(create).send().await.unwrap();
    assert_eq!(logs_error(logs.create_log_group().log_group_name("/x/untagged").send().await).0, "AccessDeniedException");
    logs.create_log_group().log_group_name("/x/tagged").tags("owner", "alice").send().await.expect("tagged create allowed");
}

#[tokio::test]
async fn session_policies_narrow_and_expired_tokens_are_refused() {
    let mut server = Server::start();
    let iam = server.iam();
    let user = User::create(&iam, "deployer").await;
    let role_arn = role_with_policy(&iam, &user, "LogsAdmin", &allow(r#""logs:*""#, "*")).await;

    let narrowed = allow(r#""logs:DescribeLogGroups""#, "*");
    let logs = Logs::new(&assume(&server, &user, &role_arn, Some(&narrowed)).await);
    logs.describe_log_groups().send().await.expect("allowed by role and session policy");
    let (code, message) = logs_error(logs.create_log_group().log_group_name("g").send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(message.ends_with("because no session policy allows the logs:CreateLogGroup action"), "{message}");

    // GetCallerIdentity names the session.
    let session = assume(&server, &user, &role_arn, None).await;
    let me = aws_sdk_sts::Client::new(&session).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(format!("arn:aws:sts::{ACCOUNT}:assumed-role/LogsAdmin/test-session").as_str()));
    assert!(me.user_id().unwrap().ends_with(":test-session"));
    Logs::new(&session).create_log_group().log_group_name("made-by-session").send().await.unwrap();

    // A session outlives a restart (tokens are sealed, not remembered) but not its expiry:
    // the server is moved two hours ahead with libfaketime, the client keeps signing now.
    server.stop();
    server.restart();
    Logs::new(&session).describe_log_groups().send().await.expect("still valid after a restart");
    server.stop();
    let faketime = faketime_library();
    server.restart_with_env(&[("LD_PRELOAD", &faketime), ("FAKETIME", "+2h"), ("DONT_FAKE_MONOTONIC", "1")]);
    let skewed = server.sdk_config_with(
        common::ACCESS_KEY,
        common::SECRET_KEY,
        Some(std::time::SystemTime::now() + std::time::Duration::from_secs(7200)),
    );
    Logs::new(&skewed).describe_log_groups().send().await.expect("the server really runs two hours ahead");
    let (code, message) = logs_error(Logs::new(&session).describe_log_groups().send().await);
    assert_eq!((code.as_str(), message.as_str()), ("ExpiredTokenException", "The security token included in the request is expired"));
    let e = aws_sdk_sts::Client::new(&session).get_caller_identity().send().await.expect_err("expired");
    assert_eq!(code_and_message(e.as_service_error().unwrap()).0, "ExpiredToken");
}

fn faketime_library() -> String {
    let candidates = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1", "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"];
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
        .unwrap_or_else(|| panic!("libfaketime is not installed: run the README's test command (./scripts/test), which installs it"))
}

#[tokio::test]
async fn iam_errors_are_aws_errors_and_change_nothing() {
    let server = Server::start();
    let iam = server.iam();
    iam.create_user().user_name("Dup").send().await.unwrap();
    let (code, message) = iam_error(iam.create_user().user_name("dup").send().await);
    assert_eq!((code.as_str(), message.as_str()), ("EntityAlreadyExists/409", "User with name dup already exists."));
    let (code, message) = iam_error(iam.get_user().user_name("ghost").send().await);
    assert_eq!((code.as_str(), message.as_str()), ("NoSuchEntity/404", "The user with name ghost cannot be found."));
    let (code, _) = iam_error(iam.create_user().user_name("bad name!").send().await);
    assert_eq!(code, "ValidationError/400");

    let (code, message) = iam_error(iam.put_user_policy().user_name("Dup").policy_name("p").policy_document("{not json").send().await);
    assert_eq!((code.as_str(), message.as_str()), ("MalformedPolicyDocument/400", "Syntax errors in policy."));
    let with_principal = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"logs:*","Resource":"*"}}"#;
    let (code, _) = iam_error(iam.create_policy().policy_name("p").policy_document(with_principal).send().await);
    assert_eq!(code, "MalformedPolicyDocument/400");
    assert!(
        iam.list_policies().scope(aws_sdk_iam::types::PolicyScopeType::Local).send().await.unwrap().policies().is_empty(),
        "no policy was created"
    );

    // DeleteConflict: a role with policies, a user with keys.
    iam.create_role().role_name("r").assume_role_policy_document(SEED_004_TRUST).send().await.unwrap();
    iam.put_role_policy().role_name("r").policy_name("inline").policy_document(SEED_001_POLICY).send().await.unwrap();
    let (code, message) = iam_error(iam.delete_role().role_name("r").send().await);
    assert_eq!((code.as_str(), message.as_str()), ("DeleteConflict/409", "Cannot delete entity, must delete policies first."));
    iam.get_role().role_name("r").send().await.expect("the role is still there");
    iam.delete_role_policy().role_name("r").policy_name("inline").send().await.unwrap();
    iam.delete_role().role_name("r").send().await.unwrap();

    iam.create_access_key().user_name("Dup").send().await.unwrap();
    iam.create_access_key().user_name("Dup").send().await.unwrap();
    let (code, message) = iam_error(iam.create_access_key().user_name("Dup").send().await);
    assert_eq!((code.as_str(), message.as_str()), ("LimitExceeded/409", "Cannot exceed quota for AccessKeysPerUser: 2"));
    let (code, _) = iam_error(iam.delete_user().user_name("Dup").send().await);
    assert_eq!(code, "DeleteConflict/409");

    // Trust policies are checked as trust policies.
    let (code, _) = iam_error(iam.create_role().role_name("r2").assume_role_policy_document(SEED_001_POLICY).send().await);
    assert_eq!(code, "MalformedPolicyDocument/400");

    // Managed policy versions: at most five, the default cannot be deleted.
    let arn =
        iam.create_policy().policy_name("versions").policy_document(SEED_001_POLICY).send().await.unwrap().policy.unwrap().arn.unwrap();
    for _ in 0..4 {
        iam.create_policy_version().policy_arn(&arn).policy_document(SEED_001_POLICY).set_as_default(true).send().await.unwrap();
    }
    let (code, _) = iam_error(iam.create_policy_version().policy_arn(&arn).policy_document(SEED_001_POLICY).send().await);
    assert_eq!(code, "LimitExceeded/409");
    let (code, message) = iam_error(iam.delete_policy_version().policy_arn(&arn).version_id("v5").send().await);
    assert_eq!((code.as_str(), message.as_str()), ("DeleteConflict/409", "Cannot delete the default version of a policy."));
    let versions = iam.list_policy_versions().policy_arn(&arn).send().await.unwrap();
    assert_eq!(versions.versions().len(), 5);
    let v1 = iam.get_policy_version().policy_arn(&arn).version_id("v1").send().await.unwrap().policy_version.unwrap();
    assert_eq!(common::url_decoded(v1.document().unwrap()), SEED_001_POLICY, "documents come back as written, URL-encoded on the wire");
}

#[tokio::test]
async fn users_groups_roles_and_policies_round_trip_and_survive_restart() {
    let mut server = Server::start();
    let iam = server.iam();
    let created = iam.create_user().user_name("carol").path("/ops/").send().await.unwrap().user.unwrap();
    assert_eq!(created.arn, format!("arn:aws:iam::{ACCOUNT}:user/ops/carol"));
    assert!(created.user_id.starts_with("AIDA") && created.user_id.len() == 21);
    let key = iam.create_access_key().user_name("carol").send().await.unwrap().access_key.unwrap();
    iam.create_group().group_name("ops").send().await.unwrap();
    iam.add_user_to_group().group_name("ops").user_name("carol").send().await.unwrap();
    iam.attach_group_policy().group_name("ops").policy_arn("arn:aws:iam::aws:policy/CloudWatchLogsFullAccess").send().await.unwrap();

    let listed = iam.list_access_keys().user_name("carol").send().await.unwrap();
    assert_eq!(listed.access_key_metadata().len(), 1);
    assert_eq!(listed.access_key_metadata()[0].access_key_id(), Some(key.access_key_id.as_str()));
    let group = iam.get_group().group_name("ops").send().await.unwrap();
    assert_eq!(group.users().iter().map(|u| u.user_name.as_str()).collect::<Vec<_>>(), ["carol"]);
    let attached = iam.list_attached_group_policies().group_name("ops").send().await.unwrap();
    assert_eq!(attached.attached_policies()[0].policy_name(), Some("CloudWatchLogsFullAccess"));
    let aws_policy = iam.get_policy().policy_arn("arn:aws:iam::aws:policy/CloudWatchLogsFullAccess").send().await.unwrap().policy.unwrap();
    assert_eq!(aws_policy.attachment_count(), Some(1));
    let aws_listed = iam.list_policies().scope(aws_sdk_iam::types::PolicyScopeType::Aws).send().await.unwrap();
    let names: Vec<&str> = aws_listed.policies().iter().filter_map(|p| p.policy_name()).collect();
    for expected in ["AdministratorAccess", "AmazonRDSReadOnlyAccess", "AWSCloudTrail_FullAccess", "IAMReadOnlyAccess", "ReadOnlyAccess"] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }

    let carol = server.sdk_config_with(&key.access_key_id, &key.secret_access_key, None);
    Logs::new(&carol).create_log_group().log_group_name("carol-group").send().await.expect("full access through the group");
    // GetUser without a name answers for the caller, if IAM allows it.
    let (code, _) = iam_error(Iam::new(&carol).get_user().send().await);
    assert_eq!(code, "AccessDenied/403");

    // The secret is shown once and never stored in clear.
    assert!(common::files_containing(&server.data_dir, key.secret_access_key.as_bytes()).is_empty(), "secret stored in clear");

    server.stop();
    server.restart();
    let me = aws_sdk_sts::Client::new(&carol).get_caller_identity().send().await.expect("the key survives a restart");
    assert_eq!(me.arn(), Some(format!("arn:aws:iam::{ACCOUNT}:user/ops/carol").as_str()));
    Logs::new(&carol).describe_log_groups().send().await.expect("and so do its policies");

    // Deactivated keys stop working at once.
    iam.update_access_key()
        .user_name("carol")
        .access_key_id(&key.access_key_id)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .unwrap();
    let e = aws_sdk_sts::Client::new(&carol).get_caller_identity().send().await.expect_err("inactive key");
    assert_eq!(code_and_message(e.as_service_error().unwrap()).0, "InvalidClientTokenId");
}

#[tokio::test]
async fn simulation_answers_with_the_enforcing_engine() {
    let server = Server::start();
    let iam = server.iam();
    let role = iam.create_role().role_name("rds-logs").assume_role_policy_document(SEED_004_TRUST).send().await.unwrap().role.unwrap();
    iam.put_role_policy().role_name("rds-logs").policy_name("seed-001").policy_document(SEED_001_POLICY).send().await.unwrap();

    let stream = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/rds/cluster/c/audit:log-stream:i-1");
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn(&role.arn)
        .action_names("logs:PutLogEvents")
        .action_names("logs:DeleteLogGroup")
        .resource_arns(&stream)
        .send()
        .await
        .unwrap();
    let results = out.evaluation_results();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].eval_decision().as_str(), "allowed");
    assert_eq!(results[0].matched_statements()[0].source_policy_id(), Some("seed-001"));
    assert_eq!(results[1].eval_decision().as_str(), "implicitDeny");

    let deny = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"logs:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}}"#;
    let out = iam
        .simulate_custom_policy()
        .policy_input_list(SEED_001_POLICY)
        .policy_input_list(deny)
        .action_names("logs:PutLogEvents")
        .resource_arns(&stream)
        .context_entries(
            aws_sdk_iam::types::ContextEntry::builder()
                .context_key_name("aws:RequestedRegion")
                .context_key_values("eu-west-1")
                .context_key_type(aws_sdk_iam::types::ContextKeyTypeEnum::String)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let r = &out.evaluation_results()[0];
    assert_eq!(r.eval_decision().as_str(), "explicitDeny");
    assert_eq!(r.matched_statements()[0].source_policy_id(), Some("PolicyInputList.2"));
    let out = iam.simulate_custom_policy().policy_input_list(deny).action_names("logs:PutLogEvents").send().await.unwrap();
    assert_eq!(out.evaluation_results()[0].eval_decision().as_str(), "implicitDeny");
    let missing = out.evaluation_results()[0].missing_context_values();
    assert!(missing.len() == 1 && missing[0].eq_ignore_ascii_case("aws:RequestedRegion"), "{missing:?}");
}

#[tokio::test]
async fn permissions_boundaries_cap_what_policies_grant() {
    let server = Server::start();
    let iam = server.iam();
    let read_only = "arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess";
    let user = iam.create_user().user_name("bounded").permissions_boundary(read_only).send().await.unwrap().user.unwrap();
    assert_eq!(user.permissions_boundary().and_then(|b| b.permissions_boundary_arn()), Some(read_only));
    let key = iam.create_access_key().user_name("bounded").send().await.unwrap().access_key.unwrap();
    iam.attach_user_policy().user_name("bounded").policy_arn("arn:aws:iam::aws:policy/AdministratorAccess").send().await.unwrap();
    let logs = Logs::new(&server.sdk_config_with(&key.access_key_id, &key.secret_access_key, None));

    logs.describe_log_groups().send().await.expect("allowed by the policy and within the boundary");
    let (code, message) = logs_error(logs.create_log_group().log_group_name("g").send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(message.ends_with("because no permissions boundary allows the logs:CreateLogGroup action"), "{message}");

    let policy = iam.get_policy().policy_arn(read_only).send().await.unwrap().policy.unwrap();
    assert_eq!(policy.permissions_boundary_usage_count(), Some(1));
    iam.delete_user_permissions_boundary().user_name("bounded").send().await.unwrap();
    logs.create_log_group().log_group_name("g").send().await.expect("the bound is lifted");
    let (code, message) = iam_error(
        iam.put_user_permissions_boundary().user_name("bounded").permissions_boundary("arn:aws:iam::111122223333:policy/nope").send().await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("NoSuchEntity/404", "Scope ARN: arn:aws:iam::111122223333:policy/nope does not exist or is not attachable.")
    );
}

#[tokio::test]
async fn renamed_users_keep_their_keys_groups_and_policies() {
    let server = Server::start();
    let iam = server.iam();
    let user = User::create(&iam, "old-name").await;
    iam.create_group().group_name("readers").send().await.unwrap();
    iam.add_user_to_group().group_name("readers").user_name("old-name").send().await.unwrap();
    iam.attach_group_policy()
        .group_name("readers")
        .policy_arn("arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess")
        .send()
        .await
        .unwrap();
    iam.update_user().user_name("old-name").new_user_name("new-name").new_path("/team/").send().await.unwrap();

    let (code, _) = iam_error(iam.get_user().user_name("old-name").send().await);
    assert_eq!(code, "NoSuchEntity/404");
    let renamed = iam.get_user().user_name("new-name").send().await.unwrap().user.unwrap();
    assert_eq!(renamed.arn, format!("arn:aws:iam::{ACCOUNT}:user/team/new-name"));
    let groups = iam.list_groups_for_user().user_name("new-name").send().await.unwrap();
    assert_eq!(groups.groups().len(), 1);
    let me = user.sts(&server).get_caller_identity().send().await.expect("the key follows the user");
    assert_eq!(me.arn(), Some(renamed.arn.as_str()));
    user.logs(&server).describe_log_groups().send().await.expect("and so do the group's policies");
}
