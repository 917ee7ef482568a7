//! A server on an engine in memory (`weft server start --memory`, or an
//! application's `Engine::memory()`) lists its workflows: with no file to
//! read, listing goes through the engine's visibility.

mod support;

use std::sync::Arc;

use weft::backend::{ListFilter, RunStatus};
use weft::engine::Engine;
use weft::remote::ConnectOptions;
use weft::{Client, WorkflowOptions};
use weft_server::{Server, ServerConfig};

use support::cli::{Stop, ok, start_server};
use support::{Account, AccountHandle, QUEUE, worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_in_memory_lists_and_filters_its_runs() {
    let engine = Engine::memory().await.unwrap();
    let server = Server::start(Arc::new(engine.clone()), ServerConfig::new("127.0.0.1:0"))
        .await
        .unwrap();
    let client = Client::connect(&server.local_addr().to_string(), ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&client).start().unwrap();
    for id in ["mem-1", "mem-2", "mem-3"] {
        client
            .start_workflow(Account::run, "Mem".into(), WorkflowOptions::new(id, QUEUE))
            .await
            .unwrap();
    }
    let closed = client.workflow_handle::<Account>("mem-2", None);
    closed.close().await.unwrap();
    closed.result().await.unwrap();

    let all = client.list_runs(ListFilter::default()).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|r| r.workflow_id.as_str()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    for id in ["mem-1", "mem-2", "mem-3"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    // Newest first, as a file's listing.
    assert!(all.windows(2).all(|w| w[0].start_time >= w[1].start_time));
    let completed = client
        .list_runs(ListFilter {
            status: Some(RunStatus::Completed),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].workflow_id, "mem-2");
    let limited = client
        .list_runs(ListFilter {
            limit: Some(2),
            ..ListFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
    worker.shutdown().await;
    server.shutdown().await;
    engine.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weft_server_start_memory_lists_what_it_runs() {
    let (server, address) = tokio::task::spawn_blocking(|| start_server(&["--memory"]))
        .await
        .unwrap();
    let server = Stop(server);
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&client).start().unwrap();
    let handle = client
        .start_workflow(
            Account::run,
            "Ram".into(),
            WorkflowOptions::new("acct-mem", QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(handle.balance().await.unwrap(), 0);
    let listed =
        tokio::task::spawn_blocking(move || ok(&["workflow", "list", "--address", &address]))
            .await
            .unwrap();
    assert!(
        listed.contains("acct-mem") && listed.contains("Running"),
        "{listed}"
    );
    worker.shutdown().await;
    drop(server);
}
