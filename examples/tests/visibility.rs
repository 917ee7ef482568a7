//! The visibility example prints what its queries found.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_visibility_example_finds_its_orders() {
    let dir = tempfile::tempdir().unwrap();
    let lines = weft_examples::visibility::run(&dir.path().join("weft.db"))
        .await
        .unwrap();
    assert_eq!(
        lines,
        [
            "urgent: order-2, order-1",
            "packing: order-3, order-2",
            "acme: 3 (\"Completed\" 2, \"Running\" 1)",
            "shipped: 4",
        ]
    );
}
