//! The rest of the API over the network: signal-with-start and
//! update-with-start, a payload codec composed over the remote backend
//! (the server's store holds only ciphertext), and what the server answers
//! a malformed, oversized or unknown request (a JSON 4xx, and it goes on
//! serving).

mod support;

use std::io::Read;

use weft::backend::IdConflictPolicy;
use weft::backend::RunStatus;
use weft::converter::DataConverter;
use weft::converter::encryption::EncryptionCodec;
use weft::remote::ConnectOptions;
use weft::remote::api::ApiError;
use weft::{Client, WorkflowOptions};
use weft_server::ServerConfig;

use support::http::post;
use support::{Account, AccountHandle, Deposit, QUEUE, serve, worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signal_with_start_and_update_with_start_work_remotely() {
    let served = serve(ServerConfig::default()).await;
    let client = Client::connect(&served.address(), ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&client).start().unwrap();

    let signaled = client
        .signal_with_start(
            Account::run,
            "Di".into(),
            WorkflowOptions::new("acct-sws", QUEUE),
            "close",
            &(),
        )
        .await
        .unwrap();
    assert_eq!(signaled.result().await.unwrap(), "Hello, Di! balance 0");

    let options = WorkflowOptions::new("acct-uws", QUEUE)
        .id_conflict_policy(IdConflictPolicy::UseExisting)
        .request_id("uws-1");
    let updated = client
        .update_with_start(Account::run, "Ed".into(), options)
        .unwrap();
    assert_eq!(updated.deposit(Deposit { amount: 5 }).await.unwrap(), 5);
    assert_eq!(updated.deposit(Deposit { amount: 7 }).await.unwrap(), 12);
    assert_eq!(updated.describe().await.unwrap().status, RunStatus::Running);
    updated.close().await.unwrap();
    assert_eq!(updated.result().await.unwrap(), "Hello, Ed! balance 12");

    worker.shutdown().await;
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_codec_on_a_remote_client_keeps_plaintext_off_the_server() {
    let served = serve(ServerConfig::default()).await;
    let codec = EncryptionCodec::new("key-1", &[7u8; 32]).unwrap();
    let client = Client::connect(&served.address(), ConnectOptions::new())
        .await
        .unwrap()
        .with_data_converter(DataConverter::new().with_codec(codec));
    let worker = worker(&client).start().unwrap();
    let handle = client
        .start_workflow(
            Account::run,
            "Zanzibar-secret".into(),
            WorkflowOptions::new("acct-enc", QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(handle.deposit(Deposit { amount: 3 }).await.unwrap(), 3);
    handle.close().await.unwrap();
    assert_eq!(
        handle.result().await.unwrap(),
        "Hello, Zanzibar-secret! balance 3"
    );
    // Listing passes through the codec's wrapper to the server.
    let listed = client
        .list_runs(weft::backend::ListFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    worker.shutdown().await;
    let db = served.db();
    served.stop().await;
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", db.display());
        if let Ok(mut file) = std::fs::File::open(&path) {
            file.read_to_end(&mut bytes).unwrap();
        }
    }
    let plain = b"Zanzibar-secret";
    assert!(
        !bytes.windows(plain.len()).any(|w| w == plain),
        "the server's store holds the plaintext"
    );
}

fn api_error(body: &str) -> ApiError {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not an ApiError ({e}): {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_oversized_and_unknown_requests_get_a_json_4xx() {
    let served = serve(ServerConfig::default().max_request_bytes(64 * 1024)).await;
    let address = served.address();
    let answers = tokio::task::spawn_blocking(move || {
        let malformed = post(&address, "/api/v1/workflows/start", b"{not json");
        let wrong_shape = post(&address, "/api/v1/workflows/signal", b"{\"namespace\": 3}");
        let oversized = post(&address, "/api/v1/workflows/start", &vec![b' '; 256 * 1024]);
        let unknown = post(&address, "/api/v1/no/such/call", b"{}");
        let hello = post(&address, "/api/v1/hello", b"{}");
        (malformed, wrong_shape, oversized, unknown, hello)
    })
    .await
    .unwrap();
    let (malformed, wrong_shape, oversized, unknown, hello) = answers;
    assert_eq!(malformed.0, 400, "{malformed:?}");
    assert!(
        api_error(&malformed.1)
            .message
            .contains("malformed request to /api/v1/workflows/start"),
        "{malformed:?}"
    );
    assert_eq!(wrong_shape.0, 400, "{wrong_shape:?}");
    assert!(api_error(&wrong_shape.1).message.contains("namespace"));
    assert_eq!(oversized.0, 413, "{oversized:?}");
    assert!(
        api_error(&oversized.1)
            .message
            .contains("larger than the server accepts"),
        "{oversized:?}"
    );
    assert_eq!(unknown.0, 404, "{unknown:?}");
    assert!(api_error(&unknown.1).message.contains("no such API call"));
    // Still serving.
    assert_eq!(hello.0, 200, "{hello:?}");
    let client = Client::connect(&served.address(), ConnectOptions::new()).await;
    assert!(client.is_ok());
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_handle_addresses_a_workflow_by_id_from_another_client() {
    let served = serve(ServerConfig::default()).await;
    let first = Client::connect(&served.address(), ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&first).start().unwrap();
    first
        .start_workflow(
            Account::run,
            "Flo".into(),
            WorkflowOptions::new("acct-shared", QUEUE),
        )
        .await
        .unwrap();
    // A second client (another process, in real life) reaches it by id.
    let second = Client::connect(&served.address(), ConnectOptions::new())
        .await
        .unwrap();
    let handle = second.workflow_handle::<Account>("acct-shared", None);
    assert_eq!(handle.deposit(Deposit { amount: 9 }).await.unwrap(), 9);
    assert_eq!(handle.balance().await.unwrap(), 9);
    handle.close().await.unwrap();
    assert_eq!(handle.result().await.unwrap(), "Hello, Flo! balance 9");
    worker.shutdown().await;
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_poll_again_after_long_polls_answered_empty() {
    // Every poll ends empty almost at once: the worker must keep polling
    // (not fail, not stop) and still take the tasks when they come.
    let config = ServerConfig::default().long_poll(std::time::Duration::from_millis(1));
    let served = serve(config).await;
    let client = Client::connect(&served.address(), ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&client).start().unwrap();
    let handle = client
        .start_workflow(
            Account::run,
            "Gus".into(),
            WorkflowOptions::new("acct-polls", QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(handle.deposit(Deposit { amount: 2 }).await.unwrap(), 2);
    handle.close().await.unwrap();
    assert_eq!(handle.result().await.unwrap(), "Hello, Gus! balance 2");
    worker.shutdown().await;
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_and_workers_carry_on_after_the_server_restarts() {
    let served = serve(ServerConfig::default()).await;
    let address = served.address();
    let db = served.db();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&client).start().unwrap();
    let handle = client
        .start_workflow(
            Account::run,
            "Hal".into(),
            WorkflowOptions::new("acct-restart", QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(handle.deposit(Deposit { amount: 1 }).await.unwrap(), 1);
    let support::Served {
        engine,
        server,
        dir,
    } = served;
    server.shutdown().await;
    engine.shutdown().await;
    let down = handle.balance().await.unwrap_err();
    assert!(
        matches!(
            &down,
            weft::ClientError::Backend(weft::backend::BackendError::Unavailable(_))
        ),
        "{down:?}"
    );

    // The same file, the same address: the client redials, the worker
    // (which kept polling) takes the new tasks.
    let engine = weft::engine::Engine::sqlite(&db).await.unwrap();
    let config = ServerConfig::new(address.clone()).sqlite_path(&db);
    let server = weft_server::Server::start(std::sync::Arc::new(engine.clone()), config)
        .await
        .unwrap();
    assert_eq!(handle.deposit(Deposit { amount: 2 }).await.unwrap(), 3);
    handle.close().await.unwrap();
    assert_eq!(handle.result().await.unwrap(), "Hello, Hal! balance 3");
    worker.shutdown().await;
    server.shutdown().await;
    engine.shutdown().await;
    drop(dir);
}
