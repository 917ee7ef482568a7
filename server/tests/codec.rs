//! The server's codec for people (`/api/v1/codec/decode`, which the web UI
//! calls): payloads the workers encrypted come back decoded when the
//! server has their key (`--encryption-key ID=FILE`), and each one it
//! cannot decode says why, beside the others; a server without a codec
//! says how to give it one.

mod support;

use serde_json::{Value, json};
use weft::converter::DataConverter;
use weft::converter::encryption::EncryptionCodec;
use weft::history::EventAttributes;
use weft::remote::ConnectOptions;
use weft::{Client, Payload, PayloadCodec, WorkflowOptions};
use weft_server::{ServerConfig, encryption_converter};

use support::cli::{fails, ok};
use support::http::post;
use support::{Account, QUEUE, serve};

const KEY: [u8; 32] = [5u8; 32];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The encrypted input of the run `id`, as the server stores it.
async fn stored_input(address: &str, id: &str) -> Payload {
    let raw = Client::connect(address, ConnectOptions::new())
        .await
        .unwrap();
    let events = raw
        .workflow_handle::<Account>(id, None)
        .history()
        .await
        .unwrap();
    match &events[0].attributes {
        EventAttributes::WorkflowExecutionStarted { input, .. } => input[0].clone(),
        other => panic!("first event {other:?}"),
    }
}

async fn decode(address: &str, payloads: &[Payload]) -> (u16, Value) {
    let body = serde_json::to_vec(&json!({"namespace": "default", "payloads": payloads})).unwrap();
    let address = address.to_string();
    let (status, body) =
        tokio::task::spawn_blocking(move || post(&address, "/api/v1/codec/decode", &body))
            .await
            .unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_decodes_payloads_with_its_keys_and_says_why_when_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.hex");
    std::fs::write(&key_file, format!("{}\n", hex(&KEY))).unwrap();
    let converter = encryption_converter(&[format!("k1={}", key_file.display())]).unwrap();
    let served = serve(ServerConfig::default().data_converter(converter)).await;
    let address = served.address();
    let codec = || EncryptionCodec::new("k1", &KEY).unwrap();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap()
        .with_data_converter(DataConverter::new().with_codec(codec()));
    client
        .start_workflow(
            Account::run,
            "Quartz".into(),
            WorkflowOptions::new("acct-codec", QUEUE),
        )
        .await
        .unwrap();
    let sealed = stored_input(&address, "acct-codec").await;
    assert_eq!(sealed.encoding(), Some("binary/encrypted"));
    let plain = weft::converter::encode(&"in the clear").unwrap();
    let other_key = EncryptionCodec::new("k2", &[6u8; 32]).unwrap();
    let foreign = other_key.encode(vec![plain.clone()]).unwrap().remove(0);

    let (status, answer) = decode(&address, &[sealed, foreign, plain.clone()]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["codec"], true);
    let decoded: Payload =
        serde_json::from_value(answer["payloads"][0]["payload"].clone()).unwrap();
    assert_eq!(
        weft::converter::decode::<String>(&decoded).unwrap(),
        "Quartz"
    );
    let why = answer["payloads"][1]["error"].as_str().unwrap();
    assert!(why.contains("k2"), "{why}");
    assert!(answer["payloads"][1].get("payload").is_none());
    let passed: Payload = serde_json::from_value(answer["payloads"][2]["payload"].clone()).unwrap();
    assert_eq!(passed, plain);
    served.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_codec_says_how_to_give_it_one() {
    let served = serve(ServerConfig::default().namespaces(vec!["default".into()])).await;
    let sealed = EncryptionCodec::new("k1", &KEY)
        .unwrap()
        .encode(vec![weft::converter::encode(&1).unwrap()])
        .unwrap();
    let (status, answer) = decode(&served.address(), &sealed).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["codec"], false);
    let why = answer["payloads"][0]["error"].as_str().unwrap();
    assert!(why.contains("--encryption-key ID=FILE"), "{why}");
    // A namespace the server does not serve is refused, as every call.
    let address = served.address();
    let (status, _) = tokio::task::spawn_blocking(move || {
        post(
            &address,
            "/api/v1/codec/decode",
            br#"{"namespace": "other", "payloads": []}"#,
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 403);
    served.stop().await;
}

#[test]
fn unusable_encryption_keys_are_refused_before_the_server_starts() {
    let dir = tempfile::tempdir().unwrap();
    let short = dir.path().join("short.key");
    std::fs::write(&short, b"0123").unwrap();
    let raw = dir.path().join("raw.key");
    std::fs::write(&raw, KEY).unwrap();
    assert!(encryption_converter(&[format!("k={}", raw.display())]).is_ok());
    let err = encryption_converter(&[format!("k={}", short.display())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected 32 bytes, or 64 hex digits"), "{err}");
    let err = encryption_converter(&["no-equals-sign".into()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected ID=FILE"), "{err}");
    let short = short.display().to_string();
    let err = fails(&[
        "server",
        "start",
        "--memory",
        "--encryption-key",
        &format!("k={short}"),
    ]);
    assert!(err.contains("--encryption-key k="), "{err}");
    let err = fails(&[
        "server",
        "start",
        "--memory",
        "--encryption-key",
        "k=/no/such/key",
    ]);
    assert!(err.contains("cannot read the key file"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_shows_payloads_decoded_with_the_workers_key() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, KEY).unwrap();
    let key = format!("k1={}", key_file.display());
    let served = serve(ServerConfig::default()).await;
    let address = served.address();
    let client = Client::connect(&address, ConnectOptions::new())
        .await
        .unwrap()
        .with_data_converter(
            DataConverter::new().with_codec(EncryptionCodec::new("k1", &KEY).unwrap()),
        );
    client
        .start_workflow(
            Account::run,
            "Obsidian".into(),
            WorkflowOptions::new("acct-cli-key", QUEUE),
        )
        .await
        .unwrap();
    let db = served.db().display().to_string();
    tokio::task::spawn_blocking(move || {
        let show = ["workflow", "show", "-w", "acct-cli-key"];
        let server = [&show[..], &["--address", &address]].concat();
        let file = [&show[..], &["--db", &db]].concat();
        for source in [&server, &file] {
            // Stored encrypted: the input is not there without the key ...
            let sealed = ok(source);
            assert!(!sealed.contains("Obsidian"), "{sealed}");
            // ... and is with it.
            let opened = ok(&[&source[..], &["--encryption-key", &key, "-o", "json"]].concat());
            let events: Value = serde_json::from_str(&opened).unwrap();
            let input: Payload =
                serde_json::from_value(events[0]["attributes"]["input"][0].clone()).unwrap();
            assert_eq!(
                weft::converter::decode::<String>(&input).unwrap(),
                "Obsidian"
            );
        }
        // A key that is not the workers': shown as stored, and said so.
        let other = dir.path().join("other");
        std::fs::write(&other, [1u8; 32]).unwrap();
        let wrong = format!("k1={}", other.display());
        let (good, out, err) =
            support::cli::weft(&[&file[..], &["--encryption-key", &wrong]].concat());
        assert!(good, "{err}");
        assert!(!out.contains("Obsidian"), "{out}");
        assert!(err.contains("not decoded, shown as stored"), "{err}");
    })
    .await
    .unwrap();
    served.stop().await;
}
