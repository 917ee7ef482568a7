//! Running the `weft` binary from a test: its status and output, and a
//! `weft server start` process on a free port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

pub const WEFT: &str = env!("CARGO_BIN_EXE_weft");

/// `weft args…`: whether it succeeded, its standard output and error.
pub fn weft(args: &[&str]) -> (bool, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(WEFT).args(args).output().unwrap();
    (
        status.success(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// `weft args…`, which must succeed; its standard output.
pub fn ok(args: &[&str]) -> String {
    let (success, out, err) = weft(args);
    assert!(success, "weft {args:?} failed: {err}");
    out
}

/// `weft args…`, which must fail, with status 1 and no panic; its
/// standard error.
pub fn fails(args: &[&str]) -> String {
    let output = Command::new(WEFT).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "weft {args:?} succeeded: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(!err.contains("panicked"), "weft {args:?} panicked: {err}");
    err
}

/// `weft server start extra…` on a free port: the process and its address.
pub fn start_server(extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(WEFT)
        .args(["server", "start", "--address", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let address = line
        .trim()
        .strip_prefix("weft server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, address)
}

/// Stops a server started by [`start_server`].
pub struct Stop(pub Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
