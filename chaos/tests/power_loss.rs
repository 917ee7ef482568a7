//! Power loss: the workload runs once under `strace`; power cuts are
//! rebuilt from the trace at every moment a sync of the database or its
//! log returned (just before and just after) and at random moments, with
//! the unsynced writes lost or half kept. Every rebuilt file must open,
//! and every call acknowledged before the cut must be in it.

use std::collections::BTreeSet;
use std::process::Command;

use weft::engine::SqliteStore;
use weft_chaos::power::{self, Op, Unsynced};
use weft_chaos::{check, kill};

const BIN: &str = env!("CARGO_BIN_EXE_weft-chaos");

#[test]
fn every_call_acknowledged_before_a_power_cut_is_in_the_files_it_leaves() {
    let strace = Command::new("strace").arg("-V").output();
    assert!(
        strace.is_ok_and(|o| o.status.success()),
        "strace is needed (Debian package strace; .ci/run installs it)"
    );
    let run = tempfile::tempdir().unwrap();
    let traces = tempfile::tempdir().unwrap();
    let prefix = traces.path().join("trace");
    let out = Command::new("strace")
        .args(["-ff", "-y", "-ttt", "-T", "-qq", "-e", "write=all", "-e"])
        .arg("trace=pwrite64,write,fsync,fdatasync,ftruncate,unlink,unlinkat")
        .arg("-o")
        .arg(&prefix)
        .arg("--")
        .arg(BIN)
        .args(["worker", "--db"])
        .arg(run.path().join("chaos.db"))
        .arg("--ledger")
        .arg(run.path().join("ledger.log"))
        .args(["--epoch", "0", "--generation", "1"])
        .args(["--checkpoint-every", &kill::CHECKPOINT_EVERY.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = power::read_trace(&prefix, run.path()).unwrap();
    let acks = trace
        .iter()
        .filter(|t| matches!(t.op, Op::Ack { .. }))
        .count();
    let syncs = trace
        .iter()
        .filter(|t| matches!(t.op, Op::Sync { .. }))
        .count();
    assert!(
        acks >= 30 && syncs > 50,
        "{acks} acks, {syncs} syncs traced"
    );

    let mut checked = 0;
    let mut cuts = 0;
    for point in power::cut_points(&trace, 60, 18) {
        for unsynced in [Unsynced::Lost, Unsynced::Some(point)] {
            let (files, acked) = power::cut(&trace, point, unsynced);
            cuts += 1;
            if !files.contains_key("chaos.db") {
                assert!(acked.is_empty(), "acknowledged before the file existed");
                continue;
            }
            let image = tempfile::tempdir().unwrap();
            power::write_image(image.path(), &files).unwrap();
            let db = image.path().join("chaos.db");
            let opened = SqliteStore::open(&db);
            assert!(opened.is_ok(), "cut at {point} ({unsynced:?}): {opened:?}");
            drop(opened);
            let held: BTreeSet<String> = check::facts(&check::histories(&db).unwrap());
            let lost: Vec<&String> = acked.difference(&held).collect();
            assert!(
                lost.is_empty(),
                "cut at {point} ({unsynced:?}): lost {lost:?}"
            );
            checked += acked.len();
        }
    }
    assert!(
        checked > 1000,
        "{checked} acknowledgements checked over {cuts} cuts"
    );
    eprintln!("{cuts} power cuts, {checked} acknowledged facts found durable");
}
