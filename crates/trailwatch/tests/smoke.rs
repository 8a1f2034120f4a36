//! The harness itself: a server starts, answers health, and the SDK talks to it.

mod common;

#[tokio::test]
async fn sdk_round_trip() {
    let server = common::Server::start();
    let logs = server.logs();
    logs.create_log_group().log_group_name("smoke").send().await.unwrap();
    let groups = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    let who = server.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some(common::ACCOUNT));
}
