//! The scenarios run end to end at a tiny size and check their own answers
//! (every workflow returned its expected value); timing is not tested.

use weft_bench::{Config, Scenario, StoreKind};

fn tiny(scenario: Scenario, n: u64, c: usize) -> Config {
    Config {
        n,
        c,
        store: StoreKind::Memory,
        progress: false,
        ..Config::new(scenario)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_on_memory_returns_every_greeting() {
    let report = weft_bench::run(&tiny(Scenario::Hello, 20, 5))
        .await
        .unwrap();
    assert_eq!(report.get("completed"), Some(20.0));
    assert!(report.get("latency_p99").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_on_sqlite_with_and_without_group_commit() {
    let dir = tempfile::tempdir().unwrap();
    for group_commit in [true, false] {
        let config = Config {
            store: StoreKind::Sqlite,
            db: Some(dir.path().join(format!("hello-{group_commit}.db"))),
            group_commit,
            ..tiny(Scenario::Hello, 20, 5)
        };
        let report = weft_bench::run(&config).await.unwrap();
        assert_eq!(report.get("completed"), Some(20.0));
        let setting = report.settings.iter().find(|(k, _)| k == "group_commit");
        let expected = if group_commit { "on" } else { "off" };
        assert_eq!(setting.map(|(_, v)| v.as_str()), Some(expected));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_db_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("taken.db");
    std::fs::write(&path, b"").unwrap();
    let config = Config {
        store: StoreKind::Sqlite,
        db: Some(path),
        ..tiny(Scenario::Hello, 1, 1)
    };
    let error = weft_bench::run(&config).await.unwrap_err();
    assert!(error.to_string().contains("exists"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_scenarios_run_and_check_their_answers() {
    let report = weft_bench::run(&tiny(Scenario::Sequential, 40, 1))
        .await
        .unwrap();
    assert_eq!(report.get("steps"), Some(40.0));
    let report = weft_bench::run(&tiny(Scenario::Fanout, 30, 1))
        .await
        .unwrap();
    assert_eq!(report.get("activities"), Some(30.0));
    let report = weft_bench::run(&tiny(Scenario::Replay, 60, 1))
        .await
        .unwrap();
    assert!(report.get("history").unwrap() >= 60.0);
    let report = weft_bench::run(&tiny(Scenario::Updates, 30, 4))
        .await
        .unwrap();
    assert_eq!(report.get("updates"), Some(30.0));
    let timers = Config {
        delay: std::time::Duration::from_millis(200),
        window: std::time::Duration::from_millis(200),
        ..tiny(Scenario::Timers, 20, 5)
    };
    let report = weft_bench::run(&timers).await.unwrap();
    assert_eq!(report.get("workflows"), Some(20.0));
}
