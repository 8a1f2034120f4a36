//! `SQL` queries: each log group a table named after the group.

mod common;

use common::{Event, START, format_time, group, map};
use insights::{Language, compile, execute};

fn events(n: usize, prefix: &str) -> Vec<Event> {
    (0..n).map(|i| Event::new(START + i as i64 * 1000, &format!("stream-{}", i % 3), format!("{prefix} event {i}"))).collect()
}

#[tokio::test]
async fn select_from_a_group() {
    let query = compile(
        "SELECT `@timestamp`, `@message`, `@log` FROM `LogGroupA` WHERE `@message` LIKE '%event 1%' ORDER BY `@timestamp` DESC LIMIT 3",
        Language::Sql,
    )
    .unwrap();
    assert_eq!(query.source_groups(), vec!["LogGroupA"]);
    let output = execute(&query, vec![group("LogGroupA", &events(20, "a"), 6)], 10_000).await.unwrap();
    let got: Vec<Vec<(String, String)>> = output.results;
    let expected: Vec<Vec<(String, String)>> = [19, 18, 17]
        .iter()
        .map(|i| {
            vec![
                ("@timestamp".to_string(), format_time(START + i * 1000)),
                ("@message".to_string(), format!("a event {i}")),
                ("@log".to_string(), "123456789012:LogGroupA".to_string()),
            ]
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(output.records_scanned, 20.0);
}

#[tokio::test]
async fn aggregate_across_groups() {
    let query = compile(
        "SELECT `@logStream`, count(*) AS n FROM (SELECT * FROM `LogGroupA` UNION ALL SELECT * FROM `/aws/group-b`) GROUP BY `@logStream` ORDER BY `@logStream`",
        Language::Sql,
    )
    .unwrap();
    assert_eq!(query.source_groups(), vec!["LogGroupA", "/aws/group-b"]);
    let groups = vec![group("LogGroupA", &events(10, "a"), 4), group("/aws/group-b", &events(5, "b"), 2)];
    let output = execute(&query, groups, 10_000).await.unwrap();
    let rows: Vec<_> = output.results.iter().map(|r| map(r)).collect();
    let counts: Vec<(&str, &str)> = rows.iter().map(|r| (r["@logStream"].as_str(), r["n"].as_str())).collect();
    assert_eq!(counts, [("stream-0", "6"), ("stream-1", "5"), ("stream-2", "4")]);
}

#[tokio::test]
async fn unknown_group_and_bad_sql() {
    let query = compile("SELECT * FROM `Missing`", Language::Sql).unwrap();
    let error = execute(&query, vec![group("LogGroupA", &events(1, "a"), 1)], 10).await.unwrap_err();
    assert!(error.message().contains("Missing") || error.message().contains("missing"), "{}", error.message());
    assert!(compile("SELEC * FROM `LogGroupA`", Language::Sql).is_err());
    assert!(compile("DELETE FROM `LogGroupA`", Language::Sql).is_err());
}
