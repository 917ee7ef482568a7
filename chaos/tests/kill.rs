//! The kill program's short form, as CI runs it: 100 SIGKILLs of a
//! process running the whole workload, every check passed.

use std::process::Command;

#[test]
fn a_hundred_kills_lose_nothing_and_repeat_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_weft-chaos"))
        .args(["kill", "--kills", "100", "--seed", "18", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let count = |name: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name:?} in\n{stdout}"))
    };
    assert!(count("kills (SIGKILL)") >= 100, "{stdout}");
    assert_eq!(count("committed steps run again"), 0);
    assert!(
        count("workflows completed once, right result") >= 18,
        "{stdout}"
    );
}
