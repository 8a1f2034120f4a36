//! A headless Debian Chromium driven through chromedriver (WebDriver, by fantoccini),
//! for the console's end-to-end tests and its page-load benchmark. Every step that
//! waits takes a screenshot when it gives up; callers keep screenshots of what they
//! checked in the directory they name.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use fantoccini::Locator;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// Where Debian's packages put them (the test command installs `chromium` and `chromium-driver`).
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page may take to show what a step waits for.
const WAIT: Duration = Duration::from_secs(30);

/// One browser session for one test.
pub struct Browser {
    driver: Child,
    client: Client,
    test: String,
    profile: PathBuf,
    shots_dir: PathBuf,
    shots: usize,
}

static PROFILES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium; screenshots go to
    /// `shots_dir/<test>-<n>-<name>.png`.
    pub async fn start(test: &str, shots_dir: PathBuf) -> Browser {
        assert!(
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists(),
            "{CHROMIUM} and {CHROMEDRIVER} are needed: apt-get install chromium chromium-driver (./scripts/test does)"
        );
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let n = PROFILES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let profile = std::env::temp_dir().join(format!("trailwatch-chromium-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&shots_dir).unwrap();
        // Screenshots of an earlier run of the same test would mix with this run's.
        for entry in std::fs::read_dir(&shots_dir).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with(&format!("{test}-")) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        // The flags keep Chromium off the network it cannot reach (see the env notes):
        // background networking, component updates and sync would only fail and retry.
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1440,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let caps: serde_json::Map<String, Value> = caps.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            // chromedriver speaks plain HTTP on loopback: no TLS stack is needed.
            match ClientBuilder::new(HttpConnector::new()).capabilities(caps.clone()).connect(&url).await {
                Ok(c) => break c,
                Err(e) if started.elapsed() < WAIT => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromedriver on {url} did not start a browser: {e}"),
            }
        };
        Browser { driver, client, test: test.to_owned(), profile, shots_dir, shots: 0 }
    }

    /// The WebDriver client, for what these helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens a URL.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// Keeps a screenshot as `<shots dir>/<test>-<n>-<name>.png`.
    pub async fn screenshot(&mut self, name: &str) -> PathBuf {
        self.shots += 1;
        let path = self.shots_dir.join(format!("{}-{:02}-{name}.png", self.test, self.shots));
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(&path, png).unwrap();
        path
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        self.eval("return document.body.innerText", vec![]).await.as_str().unwrap_or_default().to_owned()
    }

    async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("running {script}: {e}"))
    }

    /// The texts of the elements matching a CSS selector.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let v = self.eval("return [...document.querySelectorAll(arguments[0])].map(e => e.innerText)", vec![json!(css)]).await;
        v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
    }

    /// Waits until some element matching `css` shows `text`; returns that element's text.
    pub async fn wait_text(&mut self, css: &str, text: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(found) = self.texts(css).await.into_iter().find(|t| t.contains(text)) {
                return found;
            }
            if started.elapsed() > WAIT {
                self.give_up(format!("no `{css}` showed {text:?} within {WAIT:?}")).await
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for an element matching `css`.
    pub async fn wait_for(&mut self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => self.give_up(format!("no `{css}` within {WAIT:?} ({e})")).await,
        }
    }

    /// Fails the test, keeping a screenshot and printing what the page showed.
    async fn give_up(&mut self, what: String) -> ! {
        let shot = self.screenshot("timeout").await;
        panic!("{what}; the page shows:\n{}\n(screenshot {})", self.text().await, shot.display());
    }

    /// Types into the input named `name` (replacing what it held).
    pub async fn fill(&mut self, name: &str, value: &str) {
        let input = self.wait_for(&format!("[name=\"{name}\"]")).await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    /// Picks an option of the select named `name`.
    pub async fn select(&mut self, name: &str, value: &str) {
        let select = self.wait_for(&format!("select[name=\"{name}\"]")).await;
        select.select_by_value(value).await.unwrap_or_else(|e| panic!("choosing {value} in {name}: {e}"));
    }

    /// Clicks the first visible button whose text contains `text`, looking in an open
    /// dialog first (a dialog covers the page's buttons).
    pub async fn click_button(&mut self, text: &str) {
        let in_dialog = format!("//*[@role='dialog']//button[contains(normalize-space(.), '{text}')]");
        let anywhere = format!("//button[contains(normalize-space(.), '{text}')]");
        let started = Instant::now();
        loop {
            let dialog_open = self.client.find(Locator::Css("[role=dialog]")).await.is_ok();
            let xpath = if dialog_open { &in_dialog } else { &anywhere };
            if let Ok(button) = self.client.find(Locator::XPath(xpath)).await
                && button.is_displayed().await.unwrap_or(false)
                && button.is_enabled().await.unwrap_or(false)
            {
                button.click().await.unwrap_or_else(|e| panic!("clicking {text:?}: {e}"));
                return;
            }
            if started.elapsed() > WAIT {
                self.give_up(format!("no button {text:?} within {WAIT:?}")).await
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first element matching an XPath, trying again while the page is
    /// still rendering it (a re-render replaces elements under the driver's hands).
    pub async fn click_xpath(&mut self, xpath: &str) {
        let started = Instant::now();
        loop {
            let clicked = match self.client.find(Locator::XPath(xpath)).await {
                Ok(element) => element.click().await.is_ok(),
                Err(_) => false,
            };
            if clicked {
                return;
            }
            if started.elapsed() > WAIT {
                self.give_up(format!("could not click {xpath} within {WAIT:?}")).await
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the link whose text is `text`.
    pub async fn click_link(&mut self, text: &str) {
        self.click_xpath(&format!("//a[normalize-space(.)='{text}']")).await;
    }

    /// Opens the console of `endpoint` and signs in with a key pair; waits until the
    /// console shows who is signed in.
    pub async fn sign_in(&mut self, endpoint: &str, access_key: &str, secret: &str) -> String {
        self.goto(&format!("{endpoint}/_trailwatch/console/")).await;
        self.fill("accessKeyId", access_key).await;
        self.fill("secretAccessKey", secret).await;
        self.click_button("Sign in").await;
        self.wait_text("[data-testid=principal]", "arn:aws:").await
    }

    /// Ends the session and the driver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
        // Drop stops the driver and removes the profile.
    }
}

/// A test that panics never reaches `close`: its chromedriver (and the Chromium it
/// started, which quits when its driver goes) must not outlive it.
impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
