//! What the `weft` command line says when it cannot do what it was asked:
//! a missing, empty, corrupt or truncated database file, a file another
//! engine holds (read anyway: read-only access needs no lock), an unknown
//! workflow id, an unreachable server, and TLS: the right certificates
//! connect, a missing or wrong one is refused with a message that says
//! what to change. Every failure exits with status 1 and no panic.

mod support;

use std::path::Path;

use weft::engine::Engine;
use weft::remote::ConnectOptions;
use weft::{Client, WorkflowOptions};
use weft_server::ServerConfig;

use support::cli::{Stop, fails, ok, start_server};
use support::pki::{ca, leaf, pki};
use support::{Account, QUEUE, serve};

/// A database file with runs in it, written by an engine now stopped.
async fn written_file(dir: &Path) -> String {
    let db = dir.join("weft.db");
    let engine = Engine::sqlite(&db).await.unwrap();
    let client = Client::new(engine.clone());
    for i in 0..20 {
        client
            .start_workflow(
                Account::run,
                "x".repeat(2000),
                WorkflowOptions::new(format!("acct-{i}"), QUEUE),
            )
            .await
            .unwrap();
    }
    engine.shutdown().await;
    db.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_empty_corrupt_and_truncated_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let db = written_file(dir.path()).await;
    let path = |name: &str| dir.path().join(name).display().to_string();
    let random = path("random.db");
    std::fs::write(
        &random,
        (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let truncated = path("truncated.db");
    let bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 8192, "{} bytes", bytes.len());
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let empty = path("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let directory = path("a-directory");
    std::fs::create_dir(&directory).unwrap();
    tokio::task::spawn_blocking(move || {
        // The intact file reads.
        assert!(ok(&["workflow", "list", "--db", &db]).contains("acct-19"));
        let err = fails(&["workflow", "list", "--db", &random]);
        assert!(
            err.contains("random.db is not a weft database (not a SQLite database)"),
            "{err}"
        );
        let err = fails(&["history", "export", "-w", "acct-1", "--db", &truncated]);
        assert!(err.contains("truncated.db is damaged"), "{err}");
        assert!(err.contains(".recover"), "{err}");
        let err = fails(&["workflow", "list", "--db", &empty]);
        assert!(
            err.contains("is empty: no engine has written it yet"),
            "{err}"
        );
        let err = fails(&["workflow", "list", "--db", &directory]);
        assert!(err.contains("is a directory"), "{err}");
        let err = fails(&[
            "workflow",
            "show",
            "-w",
            "acct-1",
            "--db",
            "/no/such/weft.db",
        ]);
        assert!(err.contains("/no/such/weft.db does not exist"), "{err}");
        let err = fails(&["workflow", "describe", "-w", "no-such-id", "--db", &db]);
        assert!(
            err.contains("no-such-id") && err.contains("not found"),
            "{err}"
        );
        // Schedules read from a file; changing one needs its engine.
        let err = fails(&["schedule", "pause", "-s", "nightly", "--db", &db]);
        assert!(
            err.contains("--db opens it read-only") && err.contains("--address"),
            "{err}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_held_by_a_running_server_is_read_and_not_served_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("held.db").display().to_string();
    let (server, address) = {
        let db = db.clone();
        tokio::task::spawn_blocking(move || start_server(&["--db", &db]))
            .await
            .unwrap()
    };
    let server = Stop(server);
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    client
        .start_workflow(
            Account::run,
            "Lock".into(),
            WorkflowOptions::new("acct-held", QUEUE),
        )
        .await
        .unwrap();
    tokio::task::spawn_blocking(move || {
        // The server's engine holds the file; reading needs no lock.
        let listed = ok(&["workflow", "list", "--db", &db]);
        assert!(
            listed.contains("acct-held") && listed.contains("Running"),
            "{listed}"
        );
        let described = ok(&["workflow", "describe", "-w", "acct-held", "--db", &db]);
        assert!(described.contains("Account"), "{described}");
        // A second engine is refused, and told where to go.
        let err = fails(&["server", "start", "--db", &db, "--address", "127.0.0.1:0"]);
        assert!(
            err.contains("held by another engine") && err.contains("--address"),
            "{err}"
        );
        let err = fails(&[
            "workflow",
            "describe",
            "-w",
            "no-such-id",
            "--address",
            &address,
        ]);
        assert!(err.contains("not found"), "{err}");
    })
    .await
    .unwrap();
    drop(server);
}

#[test]
fn an_unreachable_server_is_named_with_what_to_do() {
    let err = fails(&["schedule", "list", "--address", "127.0.0.1:1"]);
    assert!(err.contains("cannot connect to 127.0.0.1:1"), "{err}");
    assert!(err.contains("is a server running there?"), "{err}");
    let err = fails(&["workflow", "list", "--address", "no-port"]);
    assert!(err.contains("has no port"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_tls_flags_connect_with_the_right_certificates_only() {
    let pki = pki();
    let served = serve(ServerConfig::default().tls(pki.server.clone())).await;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let (cert, key) = leaf(&pki.client_ca, "cli", false);
    let server_ca = write("server-ca.pem", pki.server_ca.pem.as_bytes());
    let cert = write("cli.pem", &cert);
    let key = write("cli-key.pem", &key);
    let (stranger_cert, stranger_key) = leaf(&ca("stranger"), "cli", false);
    let stranger_cert = write("stranger.pem", &stranger_cert);
    let stranger_key = write("stranger-key.pem", &stranger_key);
    let address = served.address();
    tokio::task::spawn_blocking(move || {
        let tls = |extra: &[&str]| {
            let mut args = vec![
                "workflow",
                "list",
                "--address",
                &address,
                "--tls-domain",
                "localhost",
            ];
            args.extend_from_slice(extra);
            args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        };
        let strs = |v: &Vec<String>| {
            v.iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join("\u{0}")
        };
        let run_ok = |v: Vec<String>| ok(&strs(&v).split('\u{0}').collect::<Vec<_>>());
        let run_fails = |v: Vec<String>| fails(&strs(&v).split('\u{0}').collect::<Vec<_>>());

        let listed = run_ok(tls(&[
            "--tls-ca",
            &server_ca,
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ]));
        assert!(listed.contains("WORKFLOW ID"), "{listed}");
        let err = run_fails(tls(&["--tls-ca", &server_ca]));
        assert!(err.contains("requires a client certificate"), "{err}");
        assert!(err.contains("--tls-cert FILE --tls-key FILE"), "{err}");
        let err = run_fails(tls(&[
            "--tls-ca",
            &server_ca,
            "--tls-cert",
            &stranger_cert,
            "--tls-key",
            &stranger_key,
        ]));
        assert!(err.contains("refused the client certificate"), "{err}");
        let err = run_fails(tls(&["--tls-ca", &server_ca, "--tls-cert", &cert]));
        assert!(err.contains("--tls-key"), "{err}");
        let err = run_fails(tls(&["--tls-cert", &cert, "--tls-key", &key]));
        assert!(err.contains("TLS needs --tls-ca"), "{err}");
        let err = run_fails(tls(&[]));
        assert!(err.contains("give --tls-ca FILE"), "{err}");
        let err = run_fails(tls(&["--tls-ca", "/no/such/ca.pem"]));
        assert!(err.contains("--tls-ca /no/such/ca.pem"), "{err}");
    })
    .await
    .unwrap();
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weft_server_start_serves_mutual_tls_from_its_flags() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let server_cert = write("server.pem", &pki.server.cert_chain);
    let server_key = write("server-key.pem", &pki.server.private_key);
    let client_ca = write("client-ca.pem", pki.client_ca.pem.as_bytes());
    let server_ca = write("server-ca.pem", pki.server_ca.pem.as_bytes());
    let (cert, key) = leaf(&pki.client_ca, "cli", false);
    let cert = write("cli.pem", &cert);
    let key = write("cli-key.pem", &key);
    tokio::task::spawn_blocking(move || {
        let (server, address) = start_server(&[
            "--memory",
            "--tls-cert",
            &server_cert,
            "--tls-key",
            &server_key,
            "--tls-client-ca",
            &client_ca,
            "--tls-client-namespace",
            "cli=default",
        ]);
        let _server = Stop(server);
        let base = [
            "--address",
            &address,
            "--tls-domain",
            "localhost",
            "--tls-ca",
            &server_ca,
        ];
        let mut with_cert = vec!["workflow", "list"];
        with_cert.extend(base);
        with_cert.extend(["--tls-cert", &cert, "--tls-key", &key]);
        assert!(ok(&with_cert).contains("WORKFLOW ID"));
        // The certificate named `cli` is given `default` only.
        let mut elsewhere = with_cert.clone();
        elsewhere.extend(["--namespace", "team-b"]);
        let err = fails(&elsewhere);
        assert!(err.contains("namespace \"team-b\" to this client"), "{err}");
        let mut without = vec!["workflow", "list"];
        without.extend(base);
        let err = fails(&without);
        assert!(err.contains("requires a client certificate"), "{err}");
        let err = fails(&["workflow", "list", "--address", &address]);
        assert!(err.contains("give --tls-ca FILE"), "{err}");
    })
    .await
    .unwrap();
}

/// `weft args…` whose reader closes standard output at once: its status
/// and standard error.
fn closed_early(args: &[&str]) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    let mut child = std::process::Command::new(support::cli::WEFT)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap(), err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    let engine = Engine::sqlite(&db).await.unwrap();
    // More than a pipe holds, so the writes meet the closed pipe.
    Client::new(engine.clone())
        .start_workflow(
            Account::run,
            "x".repeat(300_000),
            WorkflowOptions::new("acct-big", QUEUE),
        )
        .await
        .unwrap();
    engine.shutdown().await;
    let db = db.display().to_string();
    tokio::task::spawn_blocking(move || {
        for args in [
            vec!["history", "export", "-w", "acct-big", "--db", &db],
            vec![
                "workflow", "show", "-w", "acct-big", "-o", "json", "--db", &db,
            ],
        ] {
            let (status, err) = closed_early(&args);
            assert!(status.success(), "{args:?}: {status:?}: {err}");
            assert!(!err.contains("panicked"), "{args:?}: {err}");
        }
    })
    .await
    .unwrap();
}
