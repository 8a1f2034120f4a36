//! A plain HTTP endpoint that keeps every request it is sent: what SNS notifications,
//! alarm actions and subscription deliveries reach. It can refuse requests (answer 500)
//! to show that senders retry.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// One request the endpoint answered.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The status it was answered with.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body as sent.
    pub body: Vec<u8>,
}

impl Captured {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The endpoint: its URL and what it has seen.
#[derive(Clone)]
pub struct Capture {
    pub url: String,
    seen: Arc<Mutex<Vec<Captured>>>,
    refuse_next: Arc<AtomicUsize>,
    refusing: Arc<AtomicBool>,
}

impl Capture {
    /// Starts an endpoint that refuses its first `refuse_first` requests.
    pub fn start(refuse_first: usize) -> Capture {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        let capture =
            Capture { url, seen: Default::default(), refuse_next: Arc::new(AtomicUsize::new(refuse_first)), refusing: Default::default() };
        let shared = capture.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                shared.answer(stream);
            }
        });
        capture
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Captured> {
        self.seen.lock().unwrap().clone()
    }

    /// Refuses every request from now on (true) or accepts them again (false).
    pub fn refuse(&self, on: bool) {
        self.refusing.store(on, Ordering::SeqCst);
    }

    fn answer(&self, mut stream: std::net::TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let (mut length, mut headers) = (0, Vec::new());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
                if k == "content-length" {
                    length = v.parse().unwrap_or(0);
                }
                headers.push((k, v));
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let refused = self.refusing.load(Ordering::SeqCst)
            || self.refuse_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        let status = if refused { 500 } else { 200 };
        self.seen.lock().unwrap().push(Captured { status, headers, body });
        let reason = if status == 200 { "OK" } else { "Internal Server Error" };
        let _ = write!(stream, "HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    }
}
