//! Namespaces through the API: a workflow started in one is invisible to
//! a client of another (describe, signal, query, history, list), the same
//! workflow id lives in each on its own, and a server that serves only
//! some refuses the others.

mod support;

use weft::backend::{BackendError, ListFilter};
use weft::remote::ConnectOptions;
use weft::{Client, ClientError, WorkflowOptions};
use weft_server::ServerConfig;

use support::{Account, AccountHandle, QUEUE, serve, worker};

fn not_found<T: std::fmt::Debug>(result: Result<T, ClientError>) {
    match result {
        Err(ClientError::Backend(BackendError::NotFound { .. })) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_of_one_namespace_is_out_of_reach_of_another() {
    let config = ServerConfig::default().namespaces(vec!["team-a".into(), "team-b".into()]);
    let served = serve(config).await;
    let address = served.address();
    let connect = |namespace: &'static str| {
        let address = address.clone();
        async move {
            Client::connect(&address, ConnectOptions::new().namespace(namespace))
                .await
                .unwrap()
        }
    };
    let (a, b) = (connect("team-a").await, connect("team-b").await);
    let worker_a = worker(&a).start().unwrap();
    let in_a = a
        .start_workflow(
            Account::run,
            "Ann".into(),
            WorkflowOptions::new("acct-ns", QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(in_a.balance().await.unwrap(), 0);

    let from_b = b.workflow_handle::<Account>("acct-ns", None);
    not_found(from_b.describe().await);
    not_found(from_b.close().await);
    not_found(from_b.balance().await);
    not_found(from_b.history().await);
    assert!(
        b.list_runs(ListFilter::namespace("team-b"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        a.list_runs(ListFilter::namespace("team-a"))
            .await
            .unwrap()
            .len(),
        1
    );
    // A client lists its own namespace, whatever the filter names.
    let listed = b.list_runs(ListFilter::namespace("team-a")).await.unwrap();
    assert!(listed.is_empty(), "{listed:?}");

    // The same id in B is another workflow, with its own input and worker.
    let worker_b = worker(&b).start().unwrap();
    let in_b = b
        .start_workflow(
            Account::run,
            "Bob".into(),
            WorkflowOptions::new("acct-ns", QUEUE),
        )
        .await
        .unwrap();
    in_b.close().await.unwrap();
    assert_eq!(in_b.result().await.unwrap(), "Hello, Bob! balance 0");
    assert_eq!(
        in_a.describe().await.unwrap().status,
        weft::backend::RunStatus::Running
    );
    in_a.close().await.unwrap();
    assert_eq!(in_a.result().await.unwrap(), "Hello, Ann! balance 0");

    // Namespaces the server does not serve are refused at connect.
    let refused = Client::connect(&address, ConnectOptions::new().namespace("team-c")).await;
    match refused {
        Err(ClientError::Backend(BackendError::PermissionDenied(message))) => {
            assert!(message.contains("team-c"), "{message}");
        }
        other => panic!("expected PermissionDenied, got {:?}", other.map(|_| ())),
    }
    worker_a.shutdown().await;
    worker_b.shutdown().await;
    served.stop().await;
}
