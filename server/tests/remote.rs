//! A client and a worker reach a server's engine over the network with the
//! same API as in process: start, typed signal, query and update stubs (a
//! validator's rejection included), describe, history, list, cancel and
//! terminate.

mod support;

use weft::backend::{BackendError, ListFilter, RunStatus};
use weft::remote::ConnectOptions;
use weft::{Client, ClientError, WorkflowOptions};
use weft_server::ServerConfig;

use support::{Account, AccountHandle, Deposit, QUEUE, serve, worker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_client_and_worker_run_a_workflow_with_every_handler() {
    let served = serve(ServerConfig::default()).await;
    let client = Client::connect(&served.address(), ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&client).start().unwrap();

    let handle = client
        .start_workflow(
            Account::run,
            "Ada".into(),
            WorkflowOptions::new("acct-1", QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(handle.deposit(Deposit { amount: 40 }).await.unwrap(), 40);
    let rejected = handle.deposit(Deposit { amount: -1 }).await.unwrap_err();
    assert!(
        matches!(&rejected, ClientError::Update(f) if f.to_string().contains("must be positive")),
        "{rejected:?}"
    );
    assert_eq!(handle.balance().await.unwrap(), 40);
    handle.close().await.unwrap();
    assert_eq!(handle.result().await.unwrap(), "Hello, Ada! balance 40");

    let description = handle.describe().await.unwrap();
    assert_eq!(description.status, RunStatus::Completed);
    let history = handle.history().await.unwrap();
    assert_eq!(history.len() as u64, description.history_length);

    let listed = client.list_runs(ListFilter::default()).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].workflow_id, "acct-1");
    assert_eq!(listed[0].status, RunStatus::Completed);
    // Temporal's list filter and count pass over the network too.
    let found = client
        .list_workflows("WorkflowType = 'Account' AND ExecutionStatus = 'Completed'")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].workflow_id, "acct-1");
    let none = client
        .count_workflows("ExecutionStatus = 'Running'")
        .await
        .unwrap();
    assert_eq!(none.count, 0);
    let bad = client.list_workflows("WorkflowType = ").await.unwrap_err();
    assert!(bad.to_string().contains("position"), "{bad}");

    worker.shutdown().await;
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_terminate_and_unknown_ids_answer_as_in_process() {
    let served = serve(ServerConfig::default()).await;
    let client = Client::connect(&served.address(), ConnectOptions::new())
        .await
        .unwrap();
    let worker = worker(&client).start().unwrap();
    let canceled = client
        .start_workflow(
            Account::run,
            "Bo".into(),
            WorkflowOptions::new("acct-c", QUEUE),
        )
        .await
        .unwrap();
    canceled.cancel().await.unwrap();
    let failure = canceled.result().await.unwrap_err();
    assert!(matches!(failure, ClientError::Workflow(_)), "{failure:?}");
    assert_eq!(
        canceled.describe().await.unwrap().status,
        RunStatus::Canceled
    );

    let terminated = client
        .start_workflow(
            Account::run,
            "Cy".into(),
            WorkflowOptions::new("acct-t", QUEUE),
        )
        .await
        .unwrap();
    terminated.terminate("enough").await.unwrap();
    assert_eq!(
        terminated.describe().await.unwrap().status,
        RunStatus::Terminated
    );

    let missing = client.workflow_handle::<Account>("no-such-id", None);
    let error = missing.describe().await.unwrap_err();
    assert!(
        matches!(error, ClientError::Backend(BackendError::NotFound { .. })),
        "{error:?}"
    );
    let started_twice = client
        .start_workflow(
            Account::run,
            "Cy".into(),
            WorkflowOptions::new("acct-c", QUEUE),
        )
        .await;
    assert!(
        started_twice.is_ok(),
        "a closed id may be reused by default"
    );
    worker.shutdown().await;
    served.stop().await;
}
