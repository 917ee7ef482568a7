//! Namespaces through the API: a workflow started in one is invisible to
//! a client of another (describe, signal, query, history, list), the same
//! workflow id lives in each on its own, and a server that serves only
//! some refuses the others. With mutual TLS, each client certificate may
//! use only the namespaces given to its names.

mod support;

use weft::backend::{BackendError, ListFilter};
use weft::remote::{ConnectOptions, TlsConfig};
use weft::{Client, ClientError, WorkflowOptions};
use weft_server::ServerConfig;

use support::pki::{leaf, pki};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_use_only_the_namespaces_given_to_their_names() {
    let pki = pki();
    let config = ServerConfig::default()
        .tls(pki.server.clone())
        .client_namespaces("team-a-client", ["team-a"])
        .client_namespaces("ops", ["team-a", "team-b"]);
    let served = serve(config).await;
    let address = served.address();
    let tls = |name: &str| {
        let (cert, key) = leaf(&pki.client_ca, name, false);
        TlsConfig {
            server_root_ca_cert: Some(pki.server_ca.pem.clone().into_bytes()),
            client_cert: Some(cert),
            client_private_key: Some(key),
            domain: Some("localhost".into()),
        }
    };
    let connect = |name: &str, namespace: &str| {
        let options = ConnectOptions::new().namespace(namespace).tls(tls(name));
        let address = address.clone();
        async move { Client::connect(&address, options).await }
    };

    let a = connect("team-a-client", "team-a").await.unwrap();
    let worker_a = worker(&a).start().unwrap();
    let handle = a
        .start_workflow(
            Account::run,
            "Cat".into(),
            WorkflowOptions::new("acct-cert", QUEUE),
        )
        .await
        .unwrap();
    assert_eq!(handle.balance().await.unwrap(), 0);
    // Told at connect, and refused call by call even when asked directly.
    let refused = connect("team-a-client", "team-b").await;
    assert!(
        matches!(
            &refused,
            Err(ClientError::Backend(BackendError::PermissionDenied(_)))
        ),
        "{:?}",
        refused.map(|_| ())
    );
    let direct = a.backend().describe("team-b", "acct-cert", None).await;
    match direct {
        Err(BackendError::PermissionDenied(message)) => {
            assert!(
                message.contains("team-a-client") && message.contains("may use only team-a"),
                "{message}"
            );
        }
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
    // A certificate given both namespaces reaches the workflow in team-a.
    let ops = connect("ops", "team-a").await.unwrap();
    let from_ops = ops.workflow_handle::<Account>("acct-cert", None);
    from_ops.close().await.unwrap();
    assert_eq!(handle.result().await.unwrap(), "Hello, Cat! balance 0");
    // A certificate the CA signed but the server gives nothing to.
    let nobody = connect("nobody", "team-a").await;
    assert!(
        matches!(
            &nobody,
            Err(ClientError::Backend(BackendError::PermissionDenied(_)))
        ),
        "{:?}",
        nobody.map(|_| ())
    );
    let nobody = connect("nobody", "default").await;
    assert!(nobody.is_err());
    worker_a.shutdown().await;
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_namespaces_without_mutual_tls_do_not_start() {
    let config = ServerConfig::new("127.0.0.1:0").client_namespaces("team-a-client", ["team-a"]);
    let engine = weft::engine::Engine::memory().await.unwrap();
    let started = weft_server::Server::start(std::sync::Arc::new(engine.clone()), config).await;
    match started {
        Err(e) => assert!(e.to_string().contains("need mutual TLS"), "{e}"),
        Ok(_) => panic!("started without mutual TLS"),
    }
    engine.shutdown().await;
}
