//! AWS's sample queries for VPC flow logs ("Sample queries", Amazon VPC flow logs section) over
//! generated default-format flow log records; expected answers are computed from the records.

mod common;

use std::collections::BTreeMap;

use common::{Event, Rng, START, format_time, names, run};

/// One flow log record, as the test knows it.
#[derive(Debug, Clone)]
struct Flow {
    time: i64,
    src: String,
    dst: String,
    src_port: u32,
    dst_port: u32,
    protocol: u32,
    packets: u64,
    bytes: u64,
    action: &'static str,
    status: &'static str,
}

impl Flow {
    fn message(&self) -> String {
        let start = self.time / 1000;
        format!(
            "2 123456789010 eni-1235b8ca123456789 {} {} {} {} {} {} {} {} {} {} {}",
            self.src,
            self.dst,
            self.src_port,
            self.dst_port,
            self.protocol,
            self.packets,
            self.bytes,
            start,
            start + 60,
            self.action,
            self.status
        )
    }
}

const HOSTS: [&str; 8] = ["192.0.2.10", "192.0.2.77", "192.0.2.200", "198.51.100.4", "198.51.100.9", "203.0.113.5", "10.0.0.1", "10.0.0.2"];

fn flows(n: usize) -> Vec<Flow> {
    let mut rng = Rng::new(11);
    (0..n)
        .map(|i| Flow {
            time: START + i as i64 * 20_000 + rng.below(10_000) as i64,
            src: rng.pick(&HOSTS).to_string(),
            dst: rng.pick(&HOSTS).to_string(),
            src_port: 1024 + rng.below(60_000) as u32,
            dst_port: rng.pick(&[22, 80, 443, 53]),
            protocol: rng.pick(&[6, 6, 17, 1]),
            packets: 1 + rng.below(50),
            bytes: 40 + rng.below(5_000),
            action: rng.pick(&["ACCEPT", "ACCEPT", "REJECT"]),
            status: rng.pick(&["OK", "OK", "OK", "SKIPDATA"]),
        })
        .collect()
}

fn events(flows: &[Flow]) -> Vec<Event> {
    flows.iter().map(|f| Event::new(f.time, "eni-1235b8ca123456789-all", f.message())).collect()
}

fn sums<K: Ord>(items: impl Iterator<Item = (K, u64)>) -> BTreeMap<K, u64> {
    let mut sums = BTreeMap::new();
    for (key, value) in items {
        *sums.entry(key).or_insert(0) += value;
    }
    sums
}

/// Checks a "top N by value" answer: the values in order are the N largest, and each row's value
/// is its key's.
fn check_top<K: Ord + std::fmt::Debug>(got: Vec<(K, u64)>, expected: &BTreeMap<K, u64>, n: usize) {
    let mut values: Vec<u64> = expected.values().copied().collect();
    values.sort_unstable_by(|a, b| b.cmp(a));
    values.truncate(n);
    assert_eq!(got.iter().map(|(_, v)| *v).collect::<Vec<_>>(), values);
    for (key, value) in &got {
        assert_eq!(expected.get(key), Some(value), "{key:?}");
    }
}

#[tokio::test]
async fn top_byte_transfers_between_hosts() {
    let flows = flows(2000);
    let query = "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10";
    let output = run(query, &events(&flows)).await;
    let expected = sums(flows.iter().map(|f| ((f.src.clone(), f.dst.clone()), f.bytes)));
    let got: Vec<((String, String), u64)> = output
        .results
        .iter()
        .map(|row| {
            assert_eq!(names(row), ["srcAddr", "dstAddr", "bytesTransferred"]);
            ((row[0].1.clone(), row[1].1.clone()), row[2].1.parse().unwrap())
        })
        .collect();
    check_top(got, &expected, 10);
}

#[tokio::test]
async fn top_packet_transfers_across_hosts() {
    let flows = flows(2000);
    let query = "stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort packetsTransferred desc | limit 15";
    let output = run(query, &events(&flows)).await;
    let expected = sums(flows.iter().map(|f| ((f.src.clone(), f.dst.clone()), f.packets)));
    let got = output.results.iter().map(|row| ((row[0].1.clone(), row[1].1.clone()), row[2].1.parse().unwrap())).collect();
    check_top(got, &expected, 15);
}

#[tokio::test]
async fn rejected_connections_by_source() {
    let flows = flows(2000);
    let query = r#"filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20"#;
    let output = run(query, &events(&flows)).await;
    let expected = sums(flows.iter().filter(|f| f.action == "REJECT").map(|f| (f.src.clone(), 1)));
    let got = output.results.iter().map(|row| (row[0].1.clone(), row[1].1.parse().unwrap())).collect();
    check_top(got, &expected, 20);
    assert_eq!(output.records_matched, flows.iter().filter(|f| f.action == "REJECT").count() as f64);
}

#[tokio::test]
async fn top_byte_transfers_from_a_subnet() {
    let flows = flows(2000);
    let query = r#"filter isIpv4InSubnet(srcAddr, "192.0.2.0/24") | stats sum(bytes) as bytesTransferred by dstAddr | sort bytesTransferred desc | limit 15"#;
    let output = run(query, &events(&flows)).await;
    let expected = sums(flows.iter().filter(|f| f.src.starts_with("192.0.2.")).map(|f| (f.dst.clone(), f.bytes)));
    let got = output.results.iter().map(|row| (row[0].1.clone(), row[1].1.parse().unwrap())).collect();
    check_top(got, &expected, 15);
}

#[tokio::test]
async fn udp_sources() {
    let flows = flows(2000);
    let output = run("filter protocol=17 | stats count(*) by srcAddr", &events(&flows)).await;
    let expected = sums(flows.iter().filter(|f| f.protocol == 17).map(|f| (f.src.clone(), 1)));
    let got: BTreeMap<String, u64> = output.results.iter().map(|row| (row[0].1.clone(), row[1].1.parse().unwrap())).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn skipped_records_per_hour() {
    let flows = flows(2000);
    let output = run(r#"filter logStatus="SKIPDATA" | stats count(*) by bin(1h) as t | sort t"#, &events(&flows)).await;
    let expected = sums(flows.iter().filter(|f| f.status == "SKIPDATA").map(|f| (f.time - (f.time - START).rem_euclid(3_600_000), 1)));
    let expected: Vec<(String, String)> = expected.iter().map(|(t, n)| (format_time(*t), n.to_string())).collect();
    let got: Vec<(String, String)> = output.results.iter().map(|row| (row[0].1.clone(), row[1].1.clone())).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn average_minimum_and_maximum_bytes() {
    let flows = flows(1000);
    let output = run("stats avg(bytes), min(bytes), max(bytes), count(*) by srcAddr", &events(&flows)).await;
    assert_eq!(output.results.len(), HOSTS.len());
    for row in &output.results {
        assert_eq!(names(row), ["srcAddr", "avg(bytes)", "min(bytes)", "max(bytes)", "count(*)"]);
        let mine: Vec<u64> = flows.iter().filter(|f| f.src == row[0].1).map(|f| f.bytes).collect();
        let avg = mine.iter().sum::<u64>() as f64 / mine.len() as f64;
        assert!((row[1].1.parse::<f64>().unwrap() - avg).abs() < 1e-9);
        assert_eq!(row[2].1, mine.iter().min().unwrap().to_string());
        assert_eq!(row[3].1, mine.iter().max().unwrap().to_string());
        assert_eq!(row[4].1, mine.len().to_string());
    }
}

#[tokio::test]
async fn numeric_comparison_of_discovered_fields() {
    let flows = flows(1000);
    let output = run("filter bytes > 1000 and dstPort != 22 | stats count(*) as n", &events(&flows)).await;
    let expected = flows.iter().filter(|f| f.bytes > 1000 && f.dst_port != 22).count();
    assert_eq!(output.results, vec![vec![("n".to_string(), expected.to_string())]]);
}

#[tokio::test]
async fn flows_of_one_interface() {
    let flows = flows(50);
    let output =
        run(r#"filter interfaceId="eni-1235b8ca123456789" | fields @timestamp, srcAddr, dstAddr, start | limit 5"#, &events(&flows)).await;
    let mut newest = flows.clone();
    newest.sort_by_key(|f| std::cmp::Reverse(f.time));
    assert_eq!(output.results.len(), 5);
    for (row, flow) in output.results.iter().zip(&newest) {
        assert_eq!(names(row), ["@timestamp", "srcAddr", "dstAddr", "start", "@ptr"]);
        assert_eq!(row[1].1, flow.src);
        assert_eq!(row[3].1, (flow.time / 1000).to_string());
    }
}
