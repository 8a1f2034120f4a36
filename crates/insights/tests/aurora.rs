//! Queries over Aurora MySQL audit records (the ten discovered fields), expected answers
//! computed from the generated records.

mod common;

use std::collections::BTreeMap;

use common::{Event, Rng, START, format_time, get, names, run};

/// One audit record, as the test knows it.
#[derive(Debug, Clone)]
struct Audit {
    micros: i64,
    user: &'static str,
    operation: &'static str,
    database: &'static str,
    /// The query text (unquoted); empty for connections.
    object: String,
    retcode: u32,
}

const STATEMENTS: [&str; 5] = [
    "DROP TABLE orders",
    "SELECT * FROM orders WHERE note = 'a,b'",
    "INSERT INTO t VALUES (1,'x')",
    "drop table if exists tmp",
    "UPDATE accounts SET balance = 0",
];

impl Audit {
    fn line(&self) -> String {
        let object = if self.operation == "QUERY" { format!("'{}'", self.object.replace('\'', "\\'")) } else { self.object.clone() };
        format!(
            "{},db-instance-1,{},10.0.0.{},{},{},{},{},{},{}",
            self.micros,
            self.user,
            self.micros % 200,
            self.micros % 50,
            self.micros % 100_000,
            self.operation,
            self.database,
            object,
            self.retcode
        )
    }
}

fn audits(n: usize) -> Vec<Audit> {
    let mut rng = Rng::new(3);
    (0..n)
        .map(|i| {
            let operation = rng.pick(&["QUERY", "QUERY", "QUERY", "CONNECT", "DISCONNECT", "READ", "WRITE"]);
            let object = match operation {
                "QUERY" => rng.pick(&STATEMENTS).to_string(),
                "READ" | "WRITE" => "orders".to_string(),
                _ => String::new(),
            };
            Audit {
                micros: (START + i as i64 * 7_000 + rng.below(5_000) as i64) * 1000 + rng.below(1000) as i64,
                user: rng.pick(&["admin", "app", "report", "rdsadmin"]),
                operation,
                database: rng.pick(&["shop", "testdb"]),
                object,
                retcode: rng.pick(&[0, 0, 0, 1064]),
            }
        })
        .collect()
}

fn events(audits: &[Audit]) -> Vec<Event> {
    audits.iter().map(|a| Event::new(a.micros / 1000, "db-instance-1.audit.log.0", a.line())).collect()
}

#[tokio::test]
async fn dropped_tables_by_user() {
    let audits = audits(3000);
    let output = run(r#"filter operation = "QUERY" and object like /DROP TABLE/ | stats count(*) by username"#, &events(&audits)).await;
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for audit in audits.iter().filter(|a| a.operation == "QUERY" && a.object.contains("DROP TABLE")) {
        *expected.entry(audit.user.to_string()).or_default() += 1;
    }
    let got: BTreeMap<String, usize> = output
        .results
        .iter()
        .map(|row| {
            assert_eq!(names(row), ["username", "count(*)"]);
            (row[0].1.clone(), row[1].1.parse().unwrap())
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
}

#[tokio::test]
async fn operations_per_five_minutes() {
    let audits = audits(3000);
    let output = run("stats count(*) by operation, bin(5m)", &events(&audits)).await;
    let mut expected: BTreeMap<(i64, &str), usize> = BTreeMap::new();
    for audit in &audits {
        let millis = audit.micros / 1000;
        *expected.entry((millis - (millis - START).rem_euclid(300_000), audit.operation)).or_default() += 1;
    }
    // Newest bin first; within a bin, operations in ascending order.
    let mut expected: Vec<((i64, &str), usize)> = expected.into_iter().collect();
    expected.sort_by(|((t1, o1), _), ((t2, o2), _)| t2.cmp(t1).then(o1.cmp(o2)));
    let expected: Vec<Vec<(String, String)>> = expected
        .into_iter()
        .map(|((bin, op), n)| {
            vec![("operation".into(), op.into()), ("bin(5m)".into(), format_time(bin)), ("count(*)".into(), n.to_string())]
        })
        .collect();
    assert_eq!(output.results, expected);
    assert_eq!(output.records_matched, 3000.0);
}

#[tokio::test]
async fn quoted_objects_with_commas() {
    let audits = audits(500);
    let output =
        run(r#"filter object like "note = 'a,b'" | fields username, object, retcode, timestamp | limit 3"#, &events(&audits)).await;
    let mut expected: Vec<&Audit> = audits.iter().filter(|a| a.object.contains("note = 'a,b'")).collect();
    expected.sort_by_key(|a| std::cmp::Reverse(a.micros));
    assert_eq!(output.results.len(), 3);
    for (row, audit) in output.results.iter().zip(expected) {
        assert_eq!(get(row, "object"), Some(STATEMENTS[1]));
        assert_eq!(get(row, "username"), Some(audit.user));
        assert_eq!(get(row, "retcode"), Some(audit.retcode.to_string().as_str()));
        assert_eq!(get(row, "timestamp"), Some(audit.micros.to_string().as_str()));
    }
}

#[tokio::test]
async fn failed_statements_by_database() {
    let audits = audits(2000);
    let output = run("filter retcode != 0 | stats count(*) as failures by database | sort failures desc", &events(&audits)).await;
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for audit in audits.iter().filter(|a| a.retcode != 0) {
        *expected.entry(audit.database.to_string()).or_default() += 1;
    }
    let got: BTreeMap<String, usize> = output.results.iter().map(|row| (row[0].1.clone(), row[1].1.parse().unwrap())).collect();
    assert_eq!(got, expected);
}
