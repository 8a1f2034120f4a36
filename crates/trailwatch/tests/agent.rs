//! `trailwatch agent` against a real `trailwatch serve`: files appended, renamed and
//! recreated, copy-truncated, a glob gaining files, and the agent killed with SIGKILL at
//! random moments while a writer appends and rotates. Each time the stream must hold
//! every line written, exactly once and in order.

mod common;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::{ACCESS_KEY, REGION, SECRET_KEY, Server, fresh_dir};

/// An agent process and its files.
struct Agent {
    dir: PathBuf,
    config: PathBuf,
    child: Option<Child>,
    runs: usize,
}

impl Agent {
    /// Writes a configuration for `server` with the given `[[source]]` tables (and extra `[agent]` lines).
    fn new(server: &Server, dir: &Path, agent_extra: &str, sources: &str) -> Agent {
        let config = dir.join("agent.toml");
        let text = format!(
            "[agent]\nstate_dir = \"{}\"\nregion = \"{REGION}\"\nendpoint_url = \"{}\"\ninstance_id = \"i-0123456789abcdef0\"\nstatus_interval_secs = 0\nrotate_wait_ms = 300\n{agent_extra}\n{sources}",
            dir.join("state").display(),
            server.endpoint
        );
        std::fs::write(&config, text).unwrap();
        Agent { dir: dir.to_owned(), config, child: None, runs: 0 }
    }

    fn command(&mut self) -> Command {
        self.runs += 1;
        let log = File::create(self.dir.join(format!("agent-{}.log", self.runs))).unwrap();
        let mut cmd = Command::new(Server::binary());
        cmd.arg("agent")
            .arg("--config")
            .arg(&self.config)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("TRAILWATCH_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log);
        cmd
    }

    fn start(&mut self) {
        assert!(self.child.is_none());
        self.child = Some(self.command().spawn().expect("start the agent"));
    }

    fn sigkill(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM, and the exit status.
    fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
        child.wait().unwrap()
    }

    /// `trailwatch agent --once`, to completion.
    fn once(&mut self) {
        let status = self.command().arg("--once").status().unwrap();
        assert!(status.success(), "agent --once failed: {}", self.last_log());
    }

    fn last_log(&self) -> String {
        std::fs::read_to_string(self.dir.join(format!("agent-{}.log", self.runs))).unwrap_or_default()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Every message in a stream, oldest first (empty while the stream does not exist).
fn stream_messages(server: &Server, group: &str, stream: &str) -> Vec<String> {
    let client = server.logs();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let streams = client.describe_log_streams().log_group_name(group).log_stream_name_prefix(stream).send().await;
        let exists = streams.is_ok_and(|o| o.log_streams().iter().any(|s| s.log_stream_name() == Some(stream)));
        if !exists {
            return Vec::new();
        }
        common::read_stream(&client, group, stream).await.into_iter().map(|(_, m)| m).collect()
    })
}

/// Waits until the stream holds at least `n` events, then returns them all.
fn wait_for(server: &Server, group: &str, stream: &str, n: usize, agent: &Agent) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = stream_messages(server, group, stream);
        if got.len() >= n || Instant::now() > deadline {
            assert!(got.len() >= n, "stream {stream} has {} of {n} events; agent log:\n{}", got.len(), agent.last_log());
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn append(path: &Path, lines: impl IntoIterator<Item = String>) {
    let mut f = OpenOptions::new().create(true).append(true).open(path).unwrap();
    for line in lines {
        f.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
}

/// What the files hold: one event per line, or MariaDB server_audit records whose query
/// text holds raw newlines, gathered by a multi-line start pattern.
#[derive(Clone, Copy)]
enum Kind {
    Lines,
    Audit,
}

impl Kind {
    fn record(self, tag: &str, i: usize) -> String {
        match self {
            Kind::Lines => format!("{tag} line {i:06} some payload {}", "x".repeat(i % 97)),
            Kind::Audit => {
                format!("{},db-1,admin,10.0.0.5,42,{i},QUERY,{tag},'SELECT *\n  FROM orders\n  WHERE id = {i}',0", audit_stamp())
            }
        }
    }

    fn records(self, tag: &str, range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| self.record(tag, i)).collect()
    }

    /// The `[[source]]` lines that make each record one event.
    fn source_extra(self) -> &'static str {
        match self {
            Kind::Lines => "",
            Kind::Audit => {
                "timestamp_format = \"%Y%m%d %H:%M:%S\"\ntimezone = \"UTC\"\nmulti_line_start_pattern = \"{timestamp_format}\"\nmulti_line_flush_ms = 200\n"
            }
        }
    }
}

/// One server_audit timestamp for the whole test run, so records can be written and
/// expected separately.
fn audit_stamp() -> &'static str {
    static STAMP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    STAMP.get_or_init(|| {
        let now = time::OffsetDateTime::now_utc();
        format!("{:04}{:02}{:02} {:02}:{:02}:{:02}", now.year(), now.month() as u8, now.day(), now.hour(), now.minute(), now.second())
    })
}

fn source(path: &Path, group: &str, stream: &str, kind: Kind) -> String {
    format!("[[source]]\npath = \"{}\"\nlog_group = \"{group}\"\nlog_stream = \"{stream}\"\n{}", path.display(), kind.source_extra())
}

fn assert_exactly(got: &[String], want: &[String]) {
    if got != want {
        let first_diff = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
        panic!(
            "stream differs from what was written: {} events, {} written; first difference at {first_diff}: got {:?}, want {:?}",
            got.len(),
            want.len(),
            got.get(first_diff),
            want.get(first_diff)
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn renamed_and_recreated(kind: Kind) {
    let server = Server::start();
    let dir = fresh_dir("agent-rename");
    let log = dir.join("app.log");
    append(&log, kind.records("a", 0..100));
    let port = free_port();
    let sources = source(&log, "/app/rename", "{instance_id}-{file_name}", kind);
    let mut agent = Agent::new(&server, &dir, &format!("metrics_listen = \"127.0.0.1:{port}\""), &sources);
    agent.start();
    let stream = "i-0123456789abcdef0-app.log";
    wait_for(&server, "/app/rename", stream, 100, &agent);
    append(&log, kind.records("a", 100..200));
    // Create-and-move rotation, twice, with lines written on both sides.
    std::fs::rename(&log, dir.join("app.log.1")).unwrap();
    append(&dir.join("app.log.1"), kind.records("a", 200..210));
    append(&log, kind.records("a", 210..300));
    wait_for(&server, "/app/rename", stream, 300, &agent);
    std::fs::rename(dir.join("app.log.1"), dir.join("app.log.2")).unwrap();
    std::fs::rename(&log, dir.join("app.log.1")).unwrap();
    append(&log, kind.records("a", 300..400));
    let got = wait_for(&server, "/app/rename", stream, 400, &agent);
    assert_exactly(&got, &kind.records("a", 0..400));

    let metrics = common::http_get(&format!("127.0.0.1:{port}"), "/metrics").unwrap();
    assert!(metrics.contains("trailwatch_agent_events_sent_total 400"), "{metrics}");
    assert!(metrics.contains(&format!("trailwatch_agent_file_bytes_behind{{path=\"{}\"", log.display())), "{metrics}");
    let status = agent.stop();
    assert!(status.success(), "SIGTERM ends the agent cleanly: {status}");
    // Restarted, it sends nothing again.
    agent.once();
    assert_exactly(&stream_messages(&server, "/app/rename", stream), &kind.records("a", 0..400));
}

#[test]
fn appended_renamed_and_recreated_files_arrive_once_in_order() {
    renamed_and_recreated(Kind::Lines);
}

#[test]
fn appended_renamed_and_recreated_multi_line_records_arrive_once_in_order() {
    renamed_and_recreated(Kind::Audit);
}

fn copy_truncated(kind: Kind) {
    let server = Server::start();
    let dir = fresh_dir("agent-copytruncate");
    let log = dir.join("app.log");
    let sources = source(&log, "/app/copytruncate", "s", kind);
    let mut agent = Agent::new(&server, &dir, "", &sources);
    // The writer keeps its descriptor open in append mode, as logrotate's copytruncate expects.
    let mut writer = OpenOptions::new().create(true).append(true).open(&log).unwrap();
    let mut write = |range: std::ops::Range<usize>| {
        for l in kind.records("c", range) {
            writer.write_all(format!("{l}\n").as_bytes()).unwrap();
        }
    };
    write(0..100);
    agent.start();
    wait_for(&server, "/app/copytruncate", "s", 50, &agent);
    write(100..150);
    // logrotate's copytruncate: copy, then truncate in place while the writer carries on.
    // The second time the writer gets further than before the truncation, so only the
    // fingerprint (not the size) shows the file was replaced.
    let mut next = 150;
    for (round, count) in [(1, 50), (2, 150), (3, 50)] {
        std::fs::copy(&log, dir.join(format!("app.log.{round}"))).unwrap();
        OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
        write(next..next + count);
        next += count;
        std::thread::sleep(Duration::from_millis(400));
    }
    let got = wait_for(&server, "/app/copytruncate", "s", next, &agent);
    std::thread::sleep(Duration::from_millis(500));
    assert_exactly(&stream_messages(&server, "/app/copytruncate", "s"), &kind.records("c", 0..next));
    assert_eq!(got.len(), next);
    assert!(agent.last_log().contains("file truncated; finishing it from its copy"));
}

#[test]
fn copy_truncated_files_arrive_once_in_order() {
    copy_truncated(Kind::Lines);
}

#[test]
fn copy_truncated_multi_line_records_arrive_once_in_order() {
    copy_truncated(Kind::Audit);
}

fn glob_gaining_files(kind: Kind) {
    let server = Server::start();
    let dir = fresh_dir("agent-glob");
    append(&dir.join("a.log"), kind.records("a", 0..20));
    append(&dir.join("ignored.txt"), kind.records("x", 0..5));
    let sources = format!("{}retention_in_days = 7\n", source(&dir.join("*.log"), "/app/glob", "{hostname}/{file_name}", kind));
    let mut agent = Agent::new(&server, &dir, "", &sources);
    agent.start();
    let host = String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap().trim().to_owned();
    wait_for(&server, "/app/glob", &format!("{host}/a.log"), 20, &agent);
    append(&dir.join("b.log"), kind.records("b", 0..30));
    std::thread::sleep(Duration::from_millis(300));
    append(&dir.join("c.log"), kind.records("c", 0..40));
    append(&dir.join("a.log"), kind.records("a", 20..25));
    assert_exactly(&wait_for(&server, "/app/glob", &format!("{host}/b.log"), 30, &agent), &kind.records("b", 0..30));
    assert_exactly(&wait_for(&server, "/app/glob", &format!("{host}/c.log"), 40, &agent), &kind.records("c", 0..40));
    assert_exactly(&wait_for(&server, "/app/glob", &format!("{host}/a.log"), 25, &agent), &kind.records("a", 0..25));

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let groups = rt.block_on(server.logs().describe_log_groups().log_group_name_prefix("/app/glob").send()).unwrap();
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(7), "the group the agent created has the retention asked for");
    assert!(stream_messages(&server, "/app/glob", &format!("{host}/ignored.txt")).is_empty());
}

#[test]
fn a_glob_gaining_files_ships_each_to_its_stream() {
    glob_gaining_files(Kind::Lines);
}

#[test]
fn a_glob_gaining_files_of_multi_line_records_ships_each_to_its_stream() {
    glob_gaining_files(Kind::Audit);
}

/// A small deterministic generator, so a failing run can be repeated from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Writes `records` for a few seconds, rotating like MariaDB's server_audit (`.N-1` to
/// `.N` down to the live file to `.1`), while the agent is killed and restarted at random.
fn survive_sigkill(tag: &str, kind: Kind) {
    let server = Server::start();
    let dir = fresh_dir(tag);
    let log = dir.join("server_audit.log");
    let sources = format!(
        "{}buffer_duration_ms = 50\nbatch_count = 37\n",
        source(&dir.join("server_audit.log*"), "/aws/rds/cluster/c1/audit", "db-1", kind)
    );
    let mut agent = Agent::new(&server, &dir, "", &sources);
    let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    eprintln!("{tag}: seed {seed}");
    let writer_log = log.clone();
    let writer = std::thread::spawn(move || {
        let mut rng = Rng(seed.rotate_left(17) | 1);
        let mut written = Vec::new();
        let mut rotations = 0;
        let until = Instant::now() + Duration::from_secs(8);
        while Instant::now() < until {
            let n = 20 + rng.below(200) as usize;
            let batch = kind.records("db", written.len()..written.len() + n);
            append(&writer_log, batch.iter().cloned());
            written.extend(batch);
            if rng.below(3) == 0 {
                rotate(&writer_log, &mut rotations);
            }
            std::thread::sleep(Duration::from_millis(rng.below(60)));
        }
        written
    });
    let mut rng = Rng(seed);
    let mut kills = 0;
    while !writer.is_finished() {
        agent.start();
        std::thread::sleep(Duration::from_millis(100 + rng.below(900)));
        agent.sigkill();
        kills += 1;
    }
    let written = writer.join().unwrap();
    agent.once();
    let got = stream_messages(&server, "/aws/rds/cluster/c1/audit", "db-1");
    eprintln!("{tag}: {} records written, {kills} kills", written.len());
    assert!(kills >= 5);
    assert_exactly(&got, &written);
}

/// Shifts `x.N` to `x.N+1`, then the live file to `x.1`.
fn rotate(live: &Path, rotations: &mut usize) {
    for n in (1..=*rotations).rev() {
        std::fs::rename(format!("{}.{n}", live.display()), format!("{}.{}", live.display(), n + 1)).unwrap();
    }
    std::fs::rename(live, format!("{}.1", live.display())).unwrap();
    *rotations += 1;
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_sends_nothing_twice() {
    survive_sigkill("agent-sigkill", Kind::Lines);
}

#[test]
fn sigkill_with_multi_line_audit_records_keeps_each_record_whole() {
    survive_sigkill("agent-sigkill-multiline", Kind::Audit);
}

fn deleted_while_open(kind: Kind) {
    let server = Server::start();
    let dir = fresh_dir("agent-deleted");
    let log = dir.join("app.log");
    append(&log, kind.records("d", 0..50));
    let sources = source(&log, "/app/deleted", "s", kind);
    let mut agent = Agent::new(&server, &dir, "", &sources);
    agent.start();
    wait_for(&server, "/app/deleted", "s", 50, &agent);
    // Lines the agent has not read yet, then the file is gone: its descriptor still reads them.
    append(&log, kind.records("d", 50..100));
    std::fs::remove_file(&log).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    append(&log, kind.records("d", 100..120));
    assert_exactly(&wait_for(&server, "/app/deleted", "s", 120, &agent), &kind.records("d", 0..120));
}

#[test]
fn a_file_deleted_while_open_is_read_to_its_end() {
    deleted_while_open(Kind::Lines);
}

#[test]
fn a_file_of_multi_line_records_deleted_while_open_is_read_to_its_end() {
    deleted_while_open(Kind::Audit);
}

#[test]
fn an_unreachable_endpoint_delays_lines_but_loses_and_repeats_none() {
    let mut server = Server::start();
    let dir = fresh_dir("agent-unreachable");
    let log = dir.join("app.log");
    let sources = source(&log, "/app/unreachable", "s", Kind::Lines);
    let mut agent = Agent::new(&server, &dir, "", &sources);
    agent.start();
    append(&log, Kind::Lines.records("u", 0..50));
    wait_for(&server, "/app/unreachable", "s", 50, &agent);
    // The server dies while lines keep coming (possibly with a batch on the wire), and
    // comes back a few seconds later on the same address.
    append(&log, Kind::Lines.records("u", 50..100));
    server.kill();
    append(&log, Kind::Lines.records("u", 100..200));
    std::thread::sleep(Duration::from_secs(3));
    server.restart();
    append(&log, Kind::Lines.records("u", 200..250));
    let got = wait_for(&server, "/app/unreachable", "s", 250, &agent);
    std::thread::sleep(Duration::from_millis(500));
    assert_exactly(&stream_messages(&server, "/app/unreachable", "s"), &Kind::Lines.records("u", 0..250));
    assert_eq!(got.len(), 250);
    assert!(agent.last_log().contains("sending failed; will retry"), "{}", agent.last_log());
}

#[test]
fn refused_and_oversized_events_are_counted_and_not_retried() {
    let server = Server::start();
    let dir = fresh_dir("agent-refused");
    let log = dir.join("app.log");
    let now = time::OffsetDateTime::now_utc();
    let stamp =
        format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", now.year(), now.month() as u8, now.day(), now.hour(), now.minute(), now.second());
    let big = format!("{stamp} big {}", "y".repeat(5000));
    append(&log, ["2020-01-01 00:00:00 far too old".to_owned(), big.clone(), format!("{stamp} after")]);
    let port = free_port();
    let sources = format!(
        "[[source]]\npath = \"{}\"\nlog_group = \"/app/refused\"\nlog_stream = \"s\"\ntimestamp_format = \"%Y-%m-%d %H:%M:%S\"\ntimezone = \"UTC\"\nmax_event_size = 1024\n",
        log.display()
    );
    let mut agent = Agent::new(&server, &dir, &format!("metrics_listen = \"127.0.0.1:{port}\""), &sources);
    agent.start();
    let got = wait_for(&server, "/app/refused", "s", 2, &agent);
    assert_eq!(got.len(), 2, "the 2020 event is refused as too old");
    assert_eq!(got[0].len(), 1024 - 26);
    assert!(got[0].ends_with("[Truncated...]") && big.starts_with(got[0].trim_end_matches("[Truncated...]")));
    assert_eq!(got[1], format!("{stamp} after"));
    let metrics = common::http_get(&format!("127.0.0.1:{port}"), "/metrics").unwrap();
    assert!(metrics.contains("trailwatch_agent_events_refused_total 1"), "{metrics}");
    assert!(metrics.contains("trailwatch_agent_events_truncated_total 1"), "{metrics}");
    assert!(metrics.contains("trailwatch_agent_send_errors_total 0"), "refusals are not retried: {metrics}");
    assert!(agent.last_log().contains("refused"), "{}", agent.last_log());
}

#[test]
fn once_gives_up_on_an_endpoint_that_stays_down_and_ships_nothing() {
    let server = Server::start();
    let dir = fresh_dir("agent-down");
    let log = dir.join("app.log");
    append(&log, Kind::Lines.records("n", 0..10));
    let sources = source(&log, "/app/down", "s", Kind::Lines);
    let mut agent = Agent::new(&server, &dir, "", &sources);
    // Point the agent at a port nobody listens on.
    let config = std::fs::read_to_string(&agent.config).unwrap().replace(&server.endpoint, &format!("http://127.0.0.1:{}", free_port()));
    std::fs::write(&agent.config, config).unwrap();
    let status = agent.command().arg("--once").status().unwrap();
    assert!(!status.success(), "--once reports that it could not ship");
    assert!(agent.last_log().contains("giving up"), "{}", agent.last_log());
    let saved = std::fs::read_to_string(dir.join("state/checkpoints.json")).unwrap();
    assert!(saved.contains("\"offset\": 0"), "nothing is acknowledged: {saved}");
}

#[test]
fn sigterm_ends_the_agent_even_while_the_endpoint_is_down() {
    let server = Server::start();
    let dir = fresh_dir("agent-down-sigterm");
    let log = dir.join("app.log");
    // More than the one-megabyte read-ahead, so the reader waits on a full buffer.
    append(&log, Kind::Lines.records("t", 0..60_000));
    let sources = source(&log, "/app/down", "s", Kind::Lines);
    let mut agent = Agent::new(&server, &dir, "max_buffer_bytes = 1048576", &sources);
    let config = std::fs::read_to_string(&agent.config).unwrap().replace(&server.endpoint, &format!("http://127.0.0.1:{}", free_port()));
    std::fs::write(&agent.config, config).unwrap();
    agent.start();
    std::thread::sleep(Duration::from_secs(2));
    let mut child = agent.child.take().unwrap();
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the agent did not stop within 30 s of SIGTERM: {}", agent.last_log());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}: {}", agent.last_log());
    let saved = std::fs::read_to_string(dir.join("state/checkpoints.json")).unwrap();
    assert!(saved.contains("\"offset\": 0"), "nothing is acknowledged: {saved}");
}

/// A rotated file missing from a few listings (a directory read racing a rename can miss
/// a file that is there) is the same file when it is listed again: nothing is read twice.
#[test]
fn a_rotated_file_missing_from_a_listing_is_not_read_again() {
    let server = Server::start();
    let dir = fresh_dir("agent-unlisted");
    let log = dir.join("server_audit.log");
    let sources = source(&dir.join("server_audit.log*"), "/app/unlisted", "db-1", Kind::Lines);
    let mut agent = Agent::new(&server, &dir, "", &sources);
    append(&log, Kind::Lines.records("db", 0..50));
    agent.start();
    wait_for(&server, "/app/unlisted", "db-1", 50, &agent);
    let mut rotations = 0;
    rotate(&log, &mut rotations);
    append(&log, Kind::Lines.records("db", 50..100));
    wait_for(&server, "/app/unlisted", "db-1", 100, &agent);
    // Long enough for the rotated file to be finished and closed (rotate_wait_ms = 300).
    std::thread::sleep(Duration::from_millis(1500));
    // Out of the glob for a few scans (one every 100 ms), then back.
    let rotated = dir.join("server_audit.log.1");
    std::fs::rename(&rotated, dir.join("hidden")).unwrap();
    std::thread::sleep(Duration::from_millis(400));
    std::fs::rename(dir.join("hidden"), &rotated).unwrap();
    append(&log, Kind::Lines.records("db", 100..150));
    wait_for(&server, "/app/unlisted", "db-1", 150, &agent);
    std::thread::sleep(Duration::from_millis(1500));
    assert_exactly(&stream_messages(&server, "/app/unlisted", "db-1"), &Kind::Lines.records("db", 0..150));
}
