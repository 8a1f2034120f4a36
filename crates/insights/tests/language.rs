//! The commands and functions of the query language, one at a time, on small generated logs.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use common::{Event, Rng, START, format_time, get, group, map, names, run, run_groups};
use insights::{Language, compile};

const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];
const ACTIONS: [&str; 3] = ["login", "logout", "purchase"];

/// An application log line, as the test knows it.
#[derive(Debug, Clone)]
struct Line {
    time: i64,
    user: &'static str,
    action: &'static str,
    latency: u64,
    ip: String,
}

impl Line {
    fn text(&self) -> String {
        format!("user={} action={} latency={} ip={}", self.user, self.action, self.latency, self.ip)
    }
}

fn lines(n: usize) -> Vec<Line> {
    let mut rng = Rng::new(5);
    (0..n)
        .map(|i| Line {
            time: START + i as i64 * 1_000 + rng.below(900) as i64,
            user: rng.pick(&USERS),
            action: rng.pick(&ACTIONS),
            latency: 1 + rng.below(500),
            ip: format!("10.{}.0.{}", rng.below(3), rng.below(250)),
        })
        .collect()
}

fn events(lines: &[Line]) -> Vec<Event> {
    lines.iter().map(|l| Event::new(l.time, &format!("stream-{}", l.user), l.text())).collect()
}

fn newest_first(lines: &[Line]) -> Vec<Line> {
    let mut sorted = lines.to_vec();
    sorted.sort_by_key(|l| std::cmp::Reverse(l.time));
    sorted
}

#[tokio::test]
async fn parse_with_a_glob() {
    let lines = lines(300);
    let output = run(
        r#"parse @message "user=* action=* latency=* " as user, action, latency | filter action = "purchase" | display user, latency"#,
        &events(&lines),
    )
    .await;
    let expected: Vec<Line> = newest_first(&lines).into_iter().filter(|l| l.action == "purchase").collect();
    assert_eq!(output.results.len(), expected.len());
    for (row, line) in output.results.iter().zip(&expected) {
        assert_eq!(names(row), ["user", "latency", "@ptr"]);
        assert_eq!(row[0].1, line.user);
        assert_eq!(row[1].1, line.latency.to_string());
    }
}

#[tokio::test]
async fn parse_with_a_regex_and_numbers_from_it() {
    let lines = lines(300);
    let query = r"parse @message /user=(?<who>\w+) action=\w+ latency=(?<ms>\d+)/ | filter ms >= 250 | stats count(*) as slow, sum(ms) as total by who";
    let output = run(query, &events(&lines)).await;
    let mut expected: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for line in lines.iter().filter(|l| l.latency >= 250) {
        let entry = expected.entry(line.user).or_default();
        entry.0 += 1;
        entry.1 += line.latency;
    }
    let got: BTreeMap<&str, (u64, u64)> = output
        .results
        .iter()
        .map(|row| (get(row, "who").unwrap(), (get(row, "slow").unwrap().parse().unwrap(), get(row, "total").unwrap().parse().unwrap())))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn parse_without_a_match_leaves_fields_missing() {
    let events = vec![Event::new(START, "s", "no match here"), Event::new(START + 1, "s", "[ERROR] disk full")];
    let output = run(r#"parse "[*] *" as level, text | fields level, text"#, &events).await;
    assert_eq!(names(&output.results[0]), ["level", "text", "@ptr"]);
    assert_eq!(get(&output.results[0], "level"), Some("ERROR"));
    assert_eq!(get(&output.results[0], "text"), Some("disk full"));
    assert_eq!(names(&output.results[1]), ["@ptr"]);
}

#[tokio::test]
async fn dedup_keeps_the_newest_row_of_each_value() {
    let lines = lines(300);
    let output = run(r#"parse @message "user=* " as user | dedup user | fields @timestamp, user"#, &events(&lines)).await;
    let mut seen = HashSet::new();
    let expected: Vec<Line> = newest_first(&lines).into_iter().filter(|l| seen.insert(l.user)).collect();
    let got: Vec<(String, String)> = output.results.iter().map(|row| (row[0].1.clone(), row[1].1.clone())).collect();
    let want: Vec<(String, String)> = expected.iter().map(|l| (format_time(l.time), l.user.to_string())).collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn dedup_after_sort_and_stats() {
    let lines = lines(200);
    let query = r#"parse @message "user=* action=* " as user, action | stats count(*) as n by user, action | sort n desc | dedup user"#;
    let output = run(query, &events(&lines)).await;
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for line in &lines {
        *counts.entry((line.user, line.action)).or_default() += 1;
    }
    assert_eq!(output.results.len(), USERS.len());
    for row in &output.results {
        let m = map(row);
        let best = counts.iter().filter(|((u, _), _)| *u == m["user"]).map(|(_, n)| *n).max().unwrap();
        assert_eq!(m["n"], best.to_string());
    }
    let order: Vec<usize> = output.results.iter().map(|r| get(r, "n").unwrap().parse().unwrap()).collect();
    assert!(order.windows(2).all(|w| w[0] >= w[1]));
}

#[tokio::test]
async fn display_replaces_fields() {
    let lines = lines(20);
    let output = run("fields @timestamp, @message, @logStream | display @logStream, @log | limit 3", &events(&lines)).await;
    let newest = newest_first(&lines);
    for (row, line) in output.results.iter().zip(&newest) {
        assert_eq!(names(row), ["@logStream", "@log", "@ptr"]);
        assert_eq!(row[0].1, format!("stream-{}", line.user));
        assert_eq!(row[1].1, "123456789012:test-group");
    }
}

#[tokio::test]
async fn default_fields_times_and_pointers() {
    let lines = lines(50);
    let output = run("filter @message like \"purchase\"", &events(&lines)).await;
    let expected: Vec<Line> = newest_first(&lines).into_iter().filter(|l| l.action == "purchase").collect();
    assert_eq!(output.results.len(), expected.len());
    let mut pointers = HashSet::new();
    for (row, line) in output.results.iter().zip(&expected) {
        assert_eq!(names(row), ["@timestamp", "@message", "@ptr"]);
        assert_eq!(row[0].1, format_time(line.time));
        assert_eq!(row[1].1, line.text());
        assert!(pointers.insert(row[2].1.clone()));
    }
    assert_eq!(format_time(START + 3_723_456), "2022-05-20 01:02:03.456");
}

#[tokio::test]
async fn statistics_of_a_query() {
    let lines = lines(1000);
    let events = events(&lines);
    let output = run(r#"filter @message like /action=login/ | fields @message | limit 5"#, &events).await;
    assert_eq!(output.records_scanned, 1000.0);
    assert_eq!(output.bytes_scanned, events.iter().map(|e| e.message.len()).sum::<usize>() as f64);
    assert_eq!(output.records_matched, lines.iter().filter(|l| l.action == "login").count() as f64);
    assert_eq!(output.results.len(), 5);
    // Several filters, one letting most events through and one few: only events passing all count.
    let query = r#"filter @message like /user=/ | parse @message "action=* latency=* " as action, ms | filter ms < 30 | filter action != "x" | stats count(*)"#;
    let output = run(query, &events).await;
    let expected = lines.iter().filter(|l| l.latency < 30).count();
    assert_eq!(output.records_matched, expected as f64);
    assert_eq!(output.results[0][0].1, expected.to_string());
}

#[tokio::test]
async fn percentiles_count_distinct_and_stddev() {
    let lines = lines(500);
    let query = r#"parse @message "latency=* " as ms | stats pct(ms, 50) as p50, percentile(ms, 90) as p90, count_distinct(ip) as ips, stddev(ms) as sd, count(ip) as n"#;
    let output = run(query, &events(&lines)).await;
    let mut latencies: Vec<f64> = lines.iter().map(|l| l.latency as f64).collect();
    latencies.sort_by(f64::total_cmp);
    // Linear interpolation between the closest ranks (percentile_cont).
    let percentile = |p: f64| {
        let rank = p / 100.0 * (latencies.len() - 1) as f64;
        let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
        latencies[low] + (latencies[high] - latencies[low]) * (rank - low as f64)
    };
    let mean = latencies.iter().sum::<f64>() / latencies.len() as f64;
    let sd = (latencies.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (latencies.len() - 1) as f64).sqrt();
    let row = map(&output.results[0]);
    assert!((row["p50"].parse::<f64>().unwrap() - percentile(50.0)).abs() < 1e-6, "{row:?}");
    assert!((row["p90"].parse::<f64>().unwrap() - percentile(90.0)).abs() < 1e-6, "{row:?}");
    assert!((row["sd"].parse::<f64>().unwrap() - sd).abs() < 1e-9);
    // `ip` is no discovered field of these lines: it is missing everywhere.
    assert_eq!(row["ips"], "0");
    assert_eq!(row["n"], "0");

    let ips = run(r#"parse @message "ip=*" as ip | stats count_distinct(ip) as ips"#, &events(&lines)).await;
    assert_eq!(ips.results[0][0].1, lines.iter().map(|l| &l.ip).collect::<BTreeSet<_>>().len().to_string());
}

#[tokio::test]
async fn earliest_and_latest() {
    let lines = lines(400);
    let query = r#"parse @message "user=* action=* " as user, action | stats earliest(action) as first, latest(action) as last, min(@timestamp) as since, max(@timestamp) as until by user"#;
    let output = run(query, &events(&lines)).await;
    assert_eq!(output.results.len(), USERS.len());
    for row in &output.results {
        let m = map(row);
        let mine: Vec<&Line> = lines.iter().filter(|l| l.user == m["user"]).collect();
        let first = mine.iter().min_by_key(|l| l.time).unwrap();
        let last = mine.iter().max_by_key(|l| l.time).unwrap();
        assert_eq!(m["first"], first.action);
        assert_eq!(m["last"], last.action);
        assert_eq!(m["since"], format_time(first.time));
        assert_eq!(m["until"], format_time(last.time));
    }
}

#[tokio::test]
async fn string_functions() {
    let events = vec![Event::new(START, "s", r#"{"name":"  Alice  ","city":"Paris","empty":"","blank":"   "}"#)];
    let query = r#"fields strlen(city) as len, toupper(city) as up, tolower(city) as down, trim(name) as t, ltrim(name) as l,
        rtrim(name) as r, concat(city, "-", trim(name)) as c, substr(city, 1, 3) as sub, substr(city, 2) as tail,
        replace(city, "ar", "AR") as rep, strcontains(city, "ri") as has, strcontains(city, "zz") as hasnt,
        isempty(empty) as e1, isempty(missing) as e2, isempty(city) as e3, isblank(blank) as b1, isblank(city) as b2,
        ispresent(city) as p1, ispresent(missing) as p2, coalesce(missing, city) as co, unmask(city) as um"#;
    let output = run(query, &events).await;
    let row = map(&output.results[0]);
    let expected = [
        ("len", "5"),
        ("up", "PARIS"),
        ("down", "paris"),
        ("t", "Alice"),
        ("l", "Alice  "),
        ("r", "  Alice"),
        ("c", "Paris-Alice"),
        ("sub", "ari"),
        ("tail", "ris"),
        ("rep", "PARis"),
        ("has", "1"),
        ("hasnt", "0"),
        ("e1", "1"),
        ("e2", "1"),
        ("e3", "0"),
        ("b1", "1"),
        ("b2", "0"),
        ("p1", "1"),
        ("p2", "0"),
        ("co", "Paris"),
        ("um", "Paris"),
    ];
    for (field, value) in expected {
        assert_eq!(row.get(field).map(String::as_str), Some(value), "{field}");
    }
}

#[tokio::test]
async fn numeric_functions_and_arithmetic() {
    let events = vec![Event::new(START, "s", r#"{"a":-2.5,"b":16,"c":"7"}"#)];
    let query = "fields abs(a) as abs, ceil(a) as ceil, floor(a) as floor, sqrt(b) as sqrt, log(b) as ln, greatest(a, b, c) as g,
        least(a, b, c) as l, b / 3 as div, b % 5 as rem, 2 ^ 10 as pow, c * 2 + 1 as arith, -b as neg";
    let output = run(query, &events).await;
    let row = map(&output.results[0]);
    let expected = [
        ("abs", "2.5".to_string()),
        ("ceil", "-2".to_string()),
        ("floor", "-3".to_string()),
        ("sqrt", "4".to_string()),
        ("ln", format!("{}", 16f64.ln())),
        ("g", "16".to_string()),
        ("l", "-2.5".to_string()),
        ("div", format!("{}", 16.0 / 3.0)),
        ("rem", "1".to_string()),
        ("pow", "1024".to_string()),
        ("arith", "15".to_string()),
        ("neg", "-16".to_string()),
    ];
    for (field, value) in expected {
        assert_eq!(row.get(field), Some(&value), "{field}");
    }
}

#[tokio::test]
async fn datetime_functions() {
    // 2022-05-20 13:31:07.123
    let t = START + 13 * 3_600_000 + 31 * 60_000 + 7_123;
    let events = vec![Event::new(t, "s", r#"{"ms":1653053459680}"#)];
    let query = "fields bin(5m) as b5, datefloor(@timestamp, 1h) as f, dateceiling(@timestamp, 1d) as c, fromMillis(ms) as fm,
        toMillis(@timestamp) as tm, datefloor(@timestamp, 1mo) as month, @ingestionTime";
    let output = run(query, &events).await;
    let row = map(&output.results[0]);
    assert_eq!(row["b5"], "2022-05-20 13:30:00.000");
    assert_eq!(row["f"], "2022-05-20 13:00:00.000");
    assert_eq!(row["c"], "2022-05-21 00:00:00.000");
    assert_eq!(row["fm"], "2022-05-20 13:30:59.680");
    assert_eq!(row["tm"], t.to_string());
    assert_eq!(row["month"], "2022-05-01 00:00:00.000");
    assert_eq!(row["@ingestionTime"], format_time(t + 1000));
}

#[tokio::test]
async fn ip_functions() {
    let events = vec![Event::new(START, "s", r#"{"v4":"192.0.2.44","v6":"2001:db8::7","bad":"300.1.1.1"}"#)];
    let query = r#"fields isValidIp(v4) as a, isValidIp(bad) as b, isValidIpV4(v6) as c, isValidIpV6(v6) as d,
        isIpInSubnet(v4, "192.0.2.0/24") as e, isIpv4InSubnet(v4, "192.0.3.0/24") as f, isIpv6InSubnet(v6, "2001:db8::/32") as g"#;
    let output = run(query, &events).await;
    let row = map(&output.results[0]);
    let got: Vec<&str> = ["a", "b", "c", "d", "e", "f", "g"].iter().map(|k| row[*k].as_str()).collect();
    assert_eq!(got, ["1", "0", "0", "1", "1", "0", "1"]);
}

#[tokio::test]
async fn filters_with_in_not_regex_and_comparisons() {
    let lines = lines(600);
    let query = r#"parse @message "user=* action=* latency=* " as user, action, latency
        | filter user in ["alice", "bob"] and action not in ["logout"] and not (latency < 100) and user =~ /^a|^b/
        | filter @message not like /latency=4\d\d /
        | stats count(*) as n"#;
    let output = run(query, &events(&lines)).await;
    let expected = lines
        .iter()
        .filter(|l| ["alice", "bob"].contains(&l.user) && l.action != "logout" && l.latency >= 100 && !(400..500).contains(&l.latency))
        .count();
    assert_eq!(output.results[0][0].1, expected.to_string());
}

#[tokio::test]
async fn multiple_stats_and_sort_by_several_keys() {
    let lines = lines(500);
    let query = r#"parse @message "user=* action=* " as user, action
        | stats count(*) as n by user, action
        | stats max(n) as most, sum(n) as total by user
        | sort most desc, user asc"#;
    let output = run(query, &events(&lines)).await;
    let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for line in &lines {
        *counts.entry((line.user, line.action)).or_default() += 1;
    }
    let mut expected: Vec<(usize, &str, usize)> = USERS
        .iter()
        .map(|u| {
            let mine: Vec<usize> = counts.iter().filter(|((user, _), _)| user == u).map(|(_, n)| *n).collect();
            (*mine.iter().max().unwrap(), *u, mine.iter().sum())
        })
        .collect();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let got: Vec<(usize, &str, usize)> = output
        .results
        .iter()
        .map(|r| (get(r, "most").unwrap().parse().unwrap(), get(r, "user").unwrap(), get(r, "total").unwrap().parse().unwrap()))
        .collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn several_groups_and_log_names() {
    let lines = lines(100);
    let all = events(&lines);
    let (a, b) = all.split_at(40);
    let output = run_groups("stats count(*) as n by @log", vec![group("group-a", a, 7), group("group-b", b, 13)]).await;
    let got: BTreeMap<String, String> = output.results.iter().map(|r| (r[0].1.clone(), r[1].1.clone())).collect();
    let expected: BTreeMap<String, String> =
        [("123456789012:group-a".to_string(), "40".to_string()), ("123456789012:group-b".to_string(), "60".to_string())].into();
    assert_eq!(got, expected);
    assert_eq!(output.records_scanned, 100.0);
}

#[tokio::test]
async fn sort_of_discovered_numbers_is_numeric() {
    let events: Vec<Event> =
        [5, 40, 300, 1000].iter().enumerate().map(|(i, n)| Event::new(START + i as i64, "s", format!(r#"{{"n":{n}}}"#))).collect();
    let output = run("fields n | sort n desc", &events).await;
    let got: Vec<&str> = output.results.iter().map(|r| r[0].1.as_str()).collect();
    assert_eq!(got, ["1000", "300", "40", "5"]);
}

#[tokio::test]
async fn comments_unmask_and_case() {
    let lines = lines(30);
    let query = "# all purchases\nFILTER @message LIKE \"purchase\" # by anyone\n| unmask\n| STATS COUNT(*) AS n";
    let output = run(query, &events(&lines)).await;
    assert_eq!(output.results[0][0].1, lines.iter().filter(|l| l.action == "purchase").count().to_string());
}

#[tokio::test]
async fn limit_of_start_query() {
    let lines = lines(100);
    let compiled = compile("fields @message", Language::Cwli).unwrap();
    let output = insights::execute(&compiled, vec![group("g", &events(&lines), 10)], 7).await.unwrap();
    assert_eq!(output.results.len(), 7);
    assert_eq!(output.records_matched, 100.0);
}

#[test]
fn malformed_queries() {
    let message = |q: &str| compile(q, Language::Cwli).unwrap_err().message().to_string();
    assert_eq!(message("bad"), "unexpected symbol found bad at line 1 and position 1");
    assert_eq!(
        message("fields @message | sort @timestamp desc | frobnicate"),
        "unexpected symbol found frobnicate at line 1 and position 42"
    );
    assert_eq!(message("filter x = ="), "unexpected symbol found = at line 1 and position 12");
    assert_eq!(message("fields nosuch(@message)"), "Unrecognized function name: nosuch at line 1 and position 8");
    assert_eq!(message(""), "Query string cannot be empty");
    assert!(message("stats count(*) by").starts_with("unexpected end"));
    assert!(message("filter @message like /unclosed").starts_with("unexpected symbol found /"));
    assert!(message("filter @message like /(/").starts_with("Invalid regular expression"));
    assert!(message("stats @message").starts_with("unexpected symbol"));
    assert!(message("fields strlen(a, b)").starts_with("Invalid number of arguments for function strlen"));
    assert!(message("stats count(*) by bin(5parsecs)").starts_with("unexpected symbol found 5parsecs"));
    assert!(message("limit ten").starts_with("unexpected symbol found ten"));
    assert_eq!(message("fields sum(x)"), "The aggregate function sum can only be used in stats");
    assert_eq!(message("filter count(*) > 1"), "The aggregate function count can only be used in stats");
    assert!(Language::from_name("PPL").is_err());
    assert_eq!(Language::from_name("CWLI").unwrap(), Language::Cwli);
    assert!(compile("fields @timestamp, @message | sort @timestamp desc | limit 20", Language::Cwli).unwrap().source_groups().is_empty());
}

#[tokio::test]
async fn more_sample_queries_run() {
    let lines = lines(200);
    let events = events(&lines);
    let newest = newest_first(&lines);
    let by_stream = run("stats count(*) by @logStream | limit 100", &events).await;
    assert_eq!(by_stream.results.len(), USERS.len());
    let hourly = run("filter @message like /purchase/ | stats count(*) as purchases by bin(1h) | sort purchases desc", &events).await;
    assert_eq!(hourly.results[0][1].1, lines.iter().filter(|l| l.action == "purchase").count().to_string());
    let latest = run("fields @timestamp, @message | sort @timestamp desc | limit 25", &events).await;
    assert_eq!(latest.results.len(), 25);
    assert_eq!(latest.results[24][1].1, newest[24].text());
    let after = format_time(newest[9].time);
    let since = run(&format!(r#"filter @timestamp > "{after}" | stats count(*) as n"#), &events).await;
    assert_eq!(since.results[0][0].1, "9");
    let millis = run(&format!("filter @timestamp >= {} | stats count(*) as n", newest[9].time), &events).await;
    assert_eq!(millis.results[0][0].1, "10");
    let lag = run("fields @ingestionTime - @timestamp as lag, concat(@logStream, \":\", strlen(@message)) as tag | limit 1", &events).await;
    assert_eq!(get(&lag.results[0], "lag"), Some("1000"));
    assert_eq!(get(&lag.results[0], "tag"), Some(format!("stream-{}:{}", newest[0].user, newest[0].text().len()).as_str()));
    let weekly = run("stats count(*) as n by datefloor(@timestamp, 1w) as week", &events).await;
    // 2022-05-20 was a Friday: its week began on Monday the 16th.
    assert_eq!(
        weekly.results,
        vec![vec![("week".to_string(), "2022-05-16 00:00:00.000".to_string()), ("n".to_string(), "200".to_string())]]
    );
    let streams = run("dedup @logStream | fields @logStream | limit 2", &events).await;
    assert_eq!(streams.results.len(), 2);
    assert_ne!(streams.results[0][0].1, streams.results[1][0].1);
    let empty = run_groups("stats count(*) as n", Vec::new()).await;
    assert_eq!(empty.results, vec![vec![("n".to_string(), "0".to_string())]]);
}

#[test]
fn queries_and_their_execution_can_move_across_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let query = compile("stats count(*)", Language::Cwli).unwrap();
    send_sync(&query);
    send(insights::execute(&query, Vec::new(), 10));
}
