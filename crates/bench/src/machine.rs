//! What the bench runs on, so figures from different machines are not confused.

use std::fs;

use serde_json::{Value, json};

/// CPU count, CPU model and memory of this machine.
pub struct Machine {
    /// Logical CPUs available to this process (what `nproc` prints).
    pub cpus: usize,
    /// `model name` from /proc/cpuinfo.
    pub model: String,
    /// `MemTotal` from /proc/meminfo, in kB.
    pub mem_total_kb: Option<u64>,
}

impl Machine {
    /// Reads the machine description from the OS.
    pub fn detect() -> Self {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            model: proc_field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".to_owned()),
            mem_total_kb: proc_field(&meminfo, "MemTotal").and_then(|v| parse_kb(&v)),
        }
    }

    /// One human-readable line.
    pub fn text(&self) -> String {
        let mem = self.mem_total_kb.map_or("unknown".to_owned(), |kb| format!("{:.1} GiB", kb as f64 / 1048576.0));
        format!("{} CPUs (nproc), {}, {mem} RAM", self.cpus, self.model)
    }

    /// The description as JSON.
    pub fn json(&self) -> Value {
        json!({ "nproc": self.cpus, "cpu_model": self.model, "mem_total_kb": self.mem_total_kb })
    }
}

/// The value of the first `key: value` line of a /proc text file.
pub fn proc_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_owned())
    })
}

/// Parses `123456 kB` into 123456.
pub fn parse_kb(value: &str) -> Option<u64> {
    value.split_whitespace().next()?.parse().ok()
}

/// CPU seconds (user + system) a process has used so far: `pid`, or this process.
///
/// Read from `/proc/PID/stat` fields 14 and 15, in clock ticks of 1/100 s (Linux's
/// USER_HZ on every architecture this runs on).
pub fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may hold spaces; fields after it start past the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
