//! The web UI in a real browser: headless Chromium, driven over WebDriver
//! (chromedriver), opens the workflow list, finds a running workflow whose
//! payloads are encrypted, opens its page (its input decoded by the
//! server's codec), sends it an update with the Update button, and cancels
//! it; the page and the store then agree that it is canceled. Then it
//! pauses one schedule and deletes another from the schedule list, and
//! the store agrees. A
//! screenshot of the page is saved as a test artifact
//! (`target/tmp/ui/workflow-canceled.png`).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them). Without them the test says so and passes, unless
//! `WEFT_REQUIRE_BROWSER=1` (set by `.ci/run`) makes their absence a
//! failure.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use std::time::Duration;

use weft::backend::RunStatus;
use weft::converter::DataConverter;
use weft::converter::encryption::EncryptionCodec;
use weft::remote::ConnectOptions;
use weft::schedule::{Schedule, ScheduleAction, ScheduleSpec};
use weft::{Client, WorkflowOptions};
use weft_server::ServerConfig;

use support::{Account, QUEUE, serve, worker};

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(PathBuf::from).find(|p| p.exists())
}

/// chromedriver on a port it picked, once it says it listens.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(binary: &PathBuf) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        loop {
            let line = lines
                .next()
                .expect("chromedriver ended before it was ready")
                .unwrap();
            if line.contains("started successfully") {
                break;
            }
        }
        // Keep reading its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Driver { child, port }
    }

    /// One WebDriver call: `method path` with `body`; the answer's `value`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        // chromedriver keeps the connection open: read the head, then
        // Content-Length bytes.
        let mut reader = BufReader::new(stream);
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).unwrap();
        let value: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "chromedriver answered {:?}: {e}",
                String::from_utf8_lossy(&body)
            )
        });
        let value = value["value"].clone();
        if let Some(error) = value.get("error") {
            panic!("WebDriver {method} {path}: {error}: {}", value["message"]);
        }
        value
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.id)
    }

    fn post(&self, rest: &str, body: Value) -> Value {
        self.driver.call("POST", &self.path(rest), Some(body))
    }

    /// The element `css` selects, waiting (the session's implicit wait)
    /// until the page's script has rendered it.
    fn element(&self, css: &str) -> String {
        let found = self.post("/element", json!({"using": "css selector", "value": css}));
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    fn click(&self, css: &str) {
        let element = self.element(css);
        self.post(&format!("/element/{element}/click"), json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.post(&format!("/element/{element}/value"), json!({"text": text}));
    }

    fn text(&self, css: &str) -> String {
        let element = self.element(css);
        self.driver
            .call("GET", &self.path(&format!("/element/{element}/text")), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_decodes_updates_and_cancels_a_workflow_and_pauses_a_schedule() {
    let chromium = find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
    let chromedriver = find(&["/usr/bin/chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        assert!(
            std::env::var("WEFT_REQUIRE_BROWSER").is_err(),
            "chromium and chromium-driver are required (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "skipped: no chromium or chromedriver (apt-get install chromium chromium-driver)"
        );
        return;
    };
    // The workers encrypt every payload; the server holds the key to show
    // them decoded.
    let key = [9u8; 32];
    let converter =
        || DataConverter::new().with_codec(EncryptionCodec::new("ui-key", &key).unwrap());
    let served = serve(ServerConfig::default().data_converter(converter())).await;
    let client = Client::connect(&served.address(), ConnectOptions::new())
        .await
        .unwrap()
        .with_data_converter(converter());
    let worker = worker(&client).start().unwrap();
    let handle = client
        .start_workflow(
            Account::run,
            "Uma".into(),
            WorkflowOptions::new("acct-ui", QUEUE),
        )
        .await
        .unwrap();
    // Running, its activity done: the page has something to show.
    assert_eq!(handle_balance(&client).await, 0);
    let hourly = || {
        Schedule::new(
            ScheduleAction::start_workflow(Account::run, "Sched".into(), "acct-sched", QUEUE)
                .unwrap(),
            ScheduleSpec::every(Duration::from_secs(3600)),
        )
    };
    let schedule = client.create_schedule("ui-hourly", hourly()).await.unwrap();
    client.create_schedule("ui-daily", hourly()).await.unwrap();

    let url = format!("http://{}/ui/", served.address());
    let artifact = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui");
    let seen = tokio::task::spawn_blocking(move || drive(chromium, chromedriver, url, artifact))
        .await
        .unwrap();
    assert_eq!(seen.updated, "update answered: 5");
    assert_eq!(seen.paused, "paused");
    assert_eq!(seen.deleted, "deleted ui-daily");
    let left: Vec<String> = client
        .list_schedules()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.schedule_id)
        .collect();
    assert_eq!(left, ["ui-hourly"]);
    assert!(schedule.describe().await.unwrap().schedule.state.paused);
    assert_eq!(seen.status, "Canceled");
    assert!(
        seen.outcome.contains("WorkflowExecutionCanceled"),
        "{}",
        seen.outcome
    );
    handle.result().await.unwrap_err();
    let described = handle.describe().await.unwrap();
    assert_eq!(described.status, RunStatus::Canceled);
    worker.shutdown().await;
    served.stop().await;
}

/// What the page showed: the status after Cancel, the outcome, the
/// answer to the update, a schedule's state after Pause, the message after
/// Delete of another.
struct Seen {
    status: String,
    outcome: String,
    updated: String,
    paused: String,
    deleted: String,
}

/// Drives the UI at `url` in headless Chromium, as the module says.
fn drive(chromium: PathBuf, chromedriver: PathBuf, url: String, artifact: PathBuf) -> Seen {
    let driver = Driver::start(&chromedriver);
    let capabilities = json!({"capabilities": {"alwaysMatch": {
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000"]
        }
    }}});
    let created = driver.call("POST", "/session", Some(capabilities));
    let session = Session {
        driver: &driver,
        id: created["sessionId"].as_str().unwrap().to_string(),
    };
    session.post("/timeouts", json!({"implicit": 20_000}));
    session.post("/url", json!({"url": url}));
    session.click(r#"#workflows tr[data-workflow-id="acct-ui"] a"#);
    assert!(session.text("h2 .status").contains("Running"));
    // Encrypted in the store, decoded by the server's codec.
    let input = session.text("#input");
    assert!(
        input.contains("Uma") && !input.contains("not decoded"),
        "{input}"
    );
    session.type_into("#handler-name", "deposit");
    session.type_into("#handler-input", r#"{"amount": 5}"#);
    session.click("#update");
    let updated = session.text("#message.ok");
    session.post(
        "/execute/sync",
        json!({"script": "window.weftNoConfirm = true;", "args": []}),
    );
    session.click("#cancel");
    // The page reloads the workflow once the call is answered.
    let status = session.text("h2 .status.Canceled");
    let shot = session
        .driver
        .call("GET", &session.path("/screenshot"), None);
    std::fs::create_dir_all(&artifact).unwrap();
    let png = base64_decode(shot.as_str().unwrap());
    std::fs::write(artifact.join("workflow-canceled.png"), png).unwrap();
    let outcome = session.text("#outcome");
    session.post("/url", json!({"url": format!("{url}#/schedules")}));
    assert!(
        session
            .text(r#"tr[data-schedule-id="ui-hourly"] td.next"#)
            .contains("20")
    );
    session.click(r#"tr[data-schedule-id="ui-hourly"] button.pause"#);
    // The list reloads once the call is answered.
    let paused = session.text(r#"tr[data-schedule-id="ui-hourly"][data-paused="true"] td.state"#);
    session.post(
        "/execute/sync",
        json!({"script": "window.weftNoConfirm = true;", "args": []}),
    );
    session.click(r#"tr[data-schedule-id="ui-daily"] button.delete"#);
    let deleted = session.text(r#"#message.ok[data-text="deleted ui-daily"]"#);
    driver.call("DELETE", &session.path(""), None);
    eprintln!(
        "screenshot: {}",
        artifact.join("workflow-canceled.png").display()
    );
    Seen {
        status,
        outcome,
        updated,
        paused,
        deleted,
    }
}

async fn handle_balance(client: &Client) -> i64 {
    use support::AccountHandle;
    client
        .workflow_handle::<Account>("acct-ui", None)
        .balance()
        .await
        .unwrap()
}

/// Standard base64, as WebDriver sends screenshots.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes() {
        let Some(value) = ALPHABET.iter().position(|&c| c == byte) else {
            continue;
        };
        buffer = (buffer << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}
