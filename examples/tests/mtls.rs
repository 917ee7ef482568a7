//! The mTLS example, as `cargo run --example mtls` prints it.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mtls_example_runs_a_workflow_and_refuses_a_client_without_a_certificate() {
    let lines = weft_examples::mtls::run().await.unwrap();
    assert_eq!(lines[0], "server: mutual TLS on a loopback port");
    assert!(lines[1].starts_with("Ordered 8 Apples"), "{lines:?}");
    let refused = lines.last().unwrap();
    assert!(
        refused.starts_with("without a client certificate: server unavailable:")
            && refused.contains("the server requires a client certificate"),
        "{refused}"
    );
}
