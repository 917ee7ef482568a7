//! TLS and mutual TLS with certificates made in the test (rcgen): the
//! right client certificate connects and runs a workflow; a missing,
//! expired or wrongly signed client certificate, a wrong server CA and
//! plaintext (either way round) are each refused, with an error that says
//! what to change.

mod support;

use weft::backend::BackendError;
use weft::remote::{ConnectOptions, TlsConfig};
use weft::{Client, ClientError, WorkflowOptions};
use weft_server::ServerConfig;

use support::pki::{Ca, ca, leaf, pki};
use support::{Account, AccountHandle, QUEUE, serve, worker};

fn tls(server_ca: &Ca, client: Option<(Vec<u8>, Vec<u8>)>) -> TlsConfig {
    let (client_cert, client_private_key) = match client {
        Some((cert, key)) => (Some(cert), Some(key)),
        None => (None, None),
    };
    TlsConfig {
        server_root_ca_cert: Some(server_ca.pem.clone().into_bytes()),
        client_cert,
        client_private_key,
        domain: Some("localhost".into()),
    }
}

async fn refused(address: &str, options: ConnectOptions) -> String {
    match Client::connect(address, options).await {
        Ok(_) => panic!("connected"),
        Err(ClientError::Backend(BackendError::Unavailable(message))) => message,
        Err(other) => panic!("not refused as unavailable: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_client_certificate_connects_and_runs_a_workflow() {
    let pki = pki();
    let served = serve(ServerConfig::default().tls(pki.server.clone())).await;
    let client_cert = leaf(&pki.client_ca, "worker-1", false);
    let options = ConnectOptions::new().tls(tls(&pki.server_ca, Some(client_cert)));
    let client = Client::connect(&served.address(), options).await.unwrap();
    let worker = worker(&client).start().unwrap();
    let handle = client
        .start_workflow(
            Account::run,
            "Tess".into(),
            WorkflowOptions::new("acct-tls", QUEUE),
        )
        .await
        .unwrap();
    handle.close().await.unwrap();
    assert_eq!(handle.result().await.unwrap(), "Hello, Tess! balance 0");
    worker.shutdown().await;
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_or_missing_certificates_and_plaintext_are_refused_clearly() {
    let pki = pki();
    let served = serve(ServerConfig::default().tls(pki.server.clone())).await;
    let address = served.address();

    let missing = refused(
        &address,
        ConnectOptions::new().tls(tls(&pki.server_ca, None)),
    )
    .await;
    assert!(
        missing.contains("requires a client certificate"),
        "{missing}"
    );

    let expired = leaf(&pki.client_ca, "worker-old", true);
    let expired = refused(
        &address,
        ConnectOptions::new().tls(tls(&pki.server_ca, Some(expired))),
    )
    .await;
    assert!(expired.contains("expired"), "{expired}");

    let stranger = ca("someone else's CA");
    let wrongly_signed = leaf(&stranger, "worker-x", false);
    let wrongly_signed = refused(
        &address,
        ConnectOptions::new().tls(tls(&pki.server_ca, Some(wrongly_signed))),
    )
    .await;
    assert!(
        wrongly_signed.contains("refused the client certificate"),
        "{wrongly_signed}"
    );

    let good = leaf(&pki.client_ca, "worker-1", false);
    let wrong_ca = refused(
        &address,
        ConnectOptions::new().tls(tls(&stranger, Some(good))),
    )
    .await;
    assert!(
        wrong_ca.contains("not signed by TlsConfig::server_root_ca_cert"),
        "{wrong_ca}"
    );

    let plaintext = refused(&address, ConnectOptions::new()).await;
    assert!(
        plaintext.contains("connect with a TlsConfig"),
        "{plaintext}"
    );
    served.stop().await;

    // TLS to a plaintext server.
    let plain_server = serve(ServerConfig::default()).await;
    let good = leaf(&pki.client_ca, "worker-1", false);
    let tls_to_plain = refused(
        &plain_server.address(),
        ConnectOptions::new().tls(tls(&pki.server_ca, Some(good))),
    )
    .await;
    assert!(
        tls_to_plain.contains("does not speak TLS"),
        "{tls_to_plain}"
    );
    plain_server.stop().await;
}
