//! The encryption codec end to end, on both stores: a marker written
//! through every path a payload takes never reaches the store in plain
//! text (the SQLite file and its WAL are read byte by byte), clients and
//! workers read it back, old keys still decrypt after a rotation, and a
//! payload with an unknown key or changed bytes fails its task visibly.
//! Search attributes are not payloads: as in Temporal they are stored in
//! the clear, for the store to index (book: Visibility), so no run here
//! sets one and the marker never travels in one.

mod support;

use support::{env, task_failure, within};

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use weft::backend::{Backend, ENCODED_FAILURE_MESSAGE, SignalRequest, StartWorkflowRequest};
use weft::converter::encryption::EncryptionCodec;
use weft::converter::{DataConverter, decode, encode};
use weft::engine::Engine;
use weft::history::{Event, EventAttributes};
use weft::prelude::*;
use weft::schedule::{Schedule, ScheduleAction, ScheduleSpec};
use weft::{ClientError, Failure, PayloadCodec as _, WorkflowHandle};

const QUEUE: &str = "vault";
const MARKER: &str = "plaintext-marker-5b1e7c";
const KEY_A: [u8; 32] = [0xa1; 32];
const KEY_B: [u8; 32] = [0xb2; 32];

fn converter(codec: EncryptionCodec) -> DataConverter {
    DataConverter::new()
        .with_codec(codec)
        .encode_failure_attributes(true)
}

fn key_a() -> EncryptionCodec {
    EncryptionCodec::new("a", &KEY_A).unwrap()
}

/// Heartbeats twice (the second is held by the throttle and sent before
/// the attempt ends, so it is recorded), then returns the secret.
#[activity]
async fn keep(ctx: ActivityContext, secret: String) -> Result<String, Failure> {
    ctx.heartbeat(&format!("first beat {secret}"))?;
    ctx.heartbeat(&format!("last beat {secret}"))?;
    Ok(format!("kept {secret}"))
}

#[activity]
async fn refuse(secret: String) -> Result<String, ApplicationError> {
    Err(ApplicationError::new(format!("refused {secret}"))
        .with_type("Refused")
        .non_retryable()
        .with_details(&secret)?)
}

#[workflow]
#[derive(Default)]
struct Vault {
    note: String,
    done: bool,
}

#[workflow]
impl Vault {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, secret: String) -> WorkflowResult<String> {
        let kept = ctx
            .activity(KEEP, secret.clone())
            .start_to_close_timeout(Duration::from_secs(10))
            .await?;
        let refused = ctx
            .activity(REFUSE, secret.clone())
            .start_to_close_timeout(Duration::from_secs(10))
            .await
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        let local = ctx
            .local_activity(KEEP, secret.clone())
            .start_to_close_timeout(Duration::from_secs(10))
            .await?;
        let effect = ctx.side_effect(|| format!("effect {secret}")).await;
        let child = ctx
            .start_child(
                Echo::run,
                format!("child {secret}"),
                ChildOptions::new("vault-child"),
            )
            .await?;
        child.signal("hear", &format!("external {secret}")).await?;
        let echoed = child.await?;
        ctx.wait_condition(|s| s.done).await?;
        let note = ctx.state(|s| s.note.clone());
        Ok(format!(
            "{kept} | {refused} | {local} | {effect} | {echoed} | {note}"
        ))
    }

    #[signal]
    fn finish(&mut self, note: String) {
        self.note = note;
        self.done = true;
    }

    #[query]
    fn note(&self) -> String {
        self.note.clone()
    }

    #[update]
    fn replace(&mut self, note: String) -> Result<String, ApplicationError> {
        Ok(std::mem::replace(&mut self.note, note))
    }
}

/// A child: waits for its parent's signal, then returns its input and
/// the signal's.
#[workflow]
#[derive(Default)]
struct Echo {
    heard: Option<String>,
}

#[workflow]
impl Echo {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, said: String) -> WorkflowResult<String> {
        ctx.wait_condition(|s| s.heard.is_some()).await?;
        let heard = ctx.state(|s| s.heard.clone().unwrap_or_default());
        Ok(format!("{said} / {heard}"))
    }

    #[signal]
    fn hear(&mut self, heard: String) {
        self.heard = Some(heard);
    }
}

#[workflow]
#[derive(Default)]
struct Failing;

#[workflow]
impl Failing {
    #[run]
    async fn run(ctx: WorkflowContext<Self>, secret: String) -> WorkflowResult<()> {
        if !secret.starts_with("again") {
            return ctx.continue_as_new(format!("again {secret}"));
        }
        Err(ApplicationError::new(format!("failed with {secret}")).into())
    }
}

/// Takes a number: a string input fails its workflow task, and serde's
/// message quotes the string.
#[workflow]
#[derive(Default)]
struct Numbers;

#[workflow]
impl Numbers {
    #[run]
    async fn run(_ctx: WorkflowContext<Self>, n: u32) -> WorkflowResult<u32> {
        Ok(n)
    }
}

fn worker(client: &Client) -> weft::worker::WorkerHandle {
    let w = Worker::new(client, QUEUE)
        .register_workflow::<Vault>()
        .register_workflow::<Echo>()
        .register_workflow::<Failing>()
        .register_workflow::<Numbers>()
        .register_activity(KEEP)
        .register_activity(REFUSE);
    w.start().unwrap()
}

/// Sends the marker through every path: workflow input and result,
/// continue-as-new input (the failing workflow continues once), activity input, heartbeat details, result and
/// failure (message and details), local activity marker, side effect,
/// signal, update input and result, query answer, memo, a child's input
/// and result, a signal to another workflow, a schedule's action, workflow
/// failure, and a workflow task failure quoting the input. Returns the
/// Vault's result and the workflow task failure's message as `describe`
/// shows it.
async fn every_path(client: &Client) -> (String, String) {
    let options = WorkflowOptions::new("vault", QUEUE).memo("owner", &format!("memo {MARKER}"));
    let h = client
        .start_workflow(Vault::run, format!("again {MARKER}"), options)
        .await
        .unwrap();
    let memo = &h.describe().await.unwrap().memo["owner"];
    assert_eq!(decode::<String>(memo).unwrap(), format!("memo {MARKER}"));
    // Paused: its action is stored (encrypted) and never taken.
    let action =
        ScheduleAction::start_workflow(Failing::run, MARKER.to_string(), "s", QUEUE).unwrap();
    let mut schedule = Schedule::new(action, ScheduleSpec::every(Duration::from_secs(3600)));
    schedule.state.paused = true;
    let s = client
        .create_schedule("vault-schedule", schedule)
        .await
        .unwrap();
    let ScheduleAction::StartWorkflow(action) = s.describe().await.unwrap().schedule.action;
    assert_eq!(decode::<String>(&action.input[0]).unwrap(), MARKER);
    let old = within(h.update::<String>("replace", &format!("update {MARKER}")))
        .await
        .unwrap();
    assert_eq!(old, "");
    let answer: String = within(h.query("note", &())).await.unwrap();
    assert_eq!(answer, format!("update {MARKER}"));
    h.signal("finish", &format!("signal {MARKER}"))
        .await
        .unwrap();
    let result = within(h.result()).await.unwrap();

    let failing = client
        .start_workflow(
            Failing::run,
            MARKER.to_string(),
            WorkflowOptions::new("failing", QUEUE),
        )
        .await
        .unwrap();
    match within(failing.result()).await {
        Err(ClientError::Workflow(e)) => {
            assert!(
                format!("{e:#}").contains(&format!("failed with again {MARKER}")),
                "{e:#}"
            );
        }
        other => panic!("expected a failure, got {other:?}"),
    }

    let mistyped = StartWorkflowRequest {
        namespace: client.namespace().to_string(),
        workflow_id: "numbers".into(),
        workflow_type: "Numbers".into(),
        task_queue: QUEUE.into(),
        input: vec![encode(&MARKER).unwrap()],
        request_id: "numbers-1".into(),
        id_reuse_policy: Default::default(),
        id_conflict_policy: Default::default(),
        run_options: Default::default(),
    };
    client.backend().start_workflow(mistyped).await.unwrap();
    let numbers: WorkflowHandle<Numbers> = client.workflow_handle("numbers", None);
    let task_failure = task_failure(&numbers).await;
    numbers.terminate("done").await.unwrap();
    (result, task_failure)
}

/// Whether `bytes` hold `marker` as text, or inside base64 at any
/// alignment (how stores may keep payload bytes).
fn leaks(bytes: &[u8], marker: &str) -> bool {
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if contains(marker.as_bytes()) {
        return true;
    }
    (0..3).any(|shift| {
        let mut shifted = vec![b'x'; shift];
        shifted.extend_from_slice(marker.as_bytes());
        let text = base64::engine::general_purpose::STANDARD.encode(&shifted);
        // Skip the characters that depend on the bytes before the marker,
        // and the last group that depends on the bytes after it.
        let start = (shift * 8).div_ceil(6);
        let end = text.len() - 4;
        contains(&text.as_bytes()[start..end])
    })
}

fn file_leaks(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| leaks(&bytes, MARKER))
}

fn wal(db: &Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    name.into()
}

/// Every payload in raw (stored) history is encrypted.
fn all_encrypted(events: &[Event]) -> bool {
    events.iter().all(|e| match &e.attributes {
        EventAttributes::WorkflowExecutionStarted { input, memo, .. } => input
            .iter()
            .chain(memo.values())
            .all(|p| p.encoding() == Some("binary/encrypted")),
        EventAttributes::ActivityTaskScheduled { input, .. }
        | EventAttributes::WorkflowExecutionSignaled { input, .. }
        | EventAttributes::StartChildWorkflowExecutionInitiated { input, .. }
        | EventAttributes::SignalExternalWorkflowExecutionInitiated { input, .. } => input
            .iter()
            .all(|p| p.encoding() == Some("binary/encrypted")),
        EventAttributes::WorkflowExecutionCompleted { result, .. }
        | EventAttributes::ActivityTaskCompleted { result, .. }
        | EventAttributes::ChildWorkflowExecutionCompleted { result, .. } => {
            result.encoding() == Some("binary/encrypted")
        }
        EventAttributes::ActivityTaskFailed { failure, .. } => match failure {
            Failure::Application(a) => a.message == ENCODED_FAILURE_MESSAGE,
            _ => false,
        },
        _ => true,
    })
}

both_stores! {
    every_payload_reaches_the_store_encrypted(sqlite) {
        let env = env(sqlite).await;
        let client = env.client.clone().with_data_converter(converter(key_a()));
        let w = worker(&client);
        let (result, task_failure) = every_path(&client).await;
        // The failure's message is encoded too: describe shows the stand-in.
        assert!(task_failure.contains(ENCODED_FAILURE_MESSAGE), "{task_failure}");
        assert!(!task_failure.contains(MARKER), "{task_failure}");
        for part in ["kept again", "refused again", "effect again", "signal ", "child again"] {
            assert!(result.contains(part), "{result}");
        }
        assert!(result.contains(MARKER), "{result}");
        // Through the converter history reads plain; as stored, encrypted.
        let vault: WorkflowHandle<Vault> = client.workflow_handle("vault", None);
        let plain = vault.history().await.unwrap();
        let EventAttributes::WorkflowExecutionStarted { input, .. } = &plain[0].attributes else {
            panic!("{:?}", plain[0]);
        };
        assert_eq!(decode::<String>(&input[0]).unwrap(), format!("again {MARKER}"));
        let stored = env.engine.history("default", "vault", None).await.unwrap();
        assert!(all_encrypted(&stored), "{stored:#?}");
        for e in &stored { assert!(!leaks(format!("{e:?}").as_bytes(), MARKER), "{e:?}"); }
        let child = env.engine.history("default", "vault-child", None).await.unwrap();
        assert!(all_encrypted(&child), "{child:#?}");
        assert!(!leaks(format!("{child:?}").as_bytes(), MARKER));
        w.shutdown().await;
        if let Some(db) = env.db_path() {
            assert!(wal(&db).exists(), "the WAL is checked while the engine runs");
            assert!(!file_leaks(&db), "the SQLite file holds the marker");
            assert!(!file_leaks(&wal(&db)), "the WAL holds the marker");
            env.engine.shutdown().await;
            assert!(!file_leaks(&db), "the SQLite file holds the marker after checkpoint");
        }
    }

    old_keys_decrypt_after_rotation(sqlite) {
        let env = env(sqlite).await;
        let before = env.client.clone().with_data_converter(converter(key_a()));
        let w = worker(&before);
        let h = before
            .start_workflow(Vault::run, "again rotate".to_string(), WorkflowOptions::new("rotate", QUEUE))
            .await
            .unwrap();
        // Wait until the run is parked on its condition (its side effect
        // recorded), its history written under key a; the new worker
        // replays all of it.
        support::history_until(&h, |e| matches!(
            &e.attributes,
            EventAttributes::MarkerRecorded { marker_name, .. } if marker_name == weft::history::SIDE_EFFECT_MARKER
        ))
        .await;
        w.shutdown().await;
        let rotated = EncryptionCodec::new("b", &KEY_B)
            .unwrap()
            .with_decryption_key("a", &KEY_A)
            .unwrap();
        let after = env.client.clone().with_data_converter(converter(rotated));
        let w = worker(&after);
        let h: WorkflowHandle<Vault> = after.workflow_handle("rotate", None);
        h.signal("finish", &"after rotation".to_string()).await.unwrap();
        let result = within(h.result()).await.unwrap();
        assert!(result.contains("kept again rotate") && result.ends_with("after rotation"), "{result}");
        let stored = env.engine.history("default", "rotate", None).await.unwrap();
        let keys: Vec<String> = stored
            .iter()
            .filter_map(|e| match &e.attributes {
                EventAttributes::WorkflowExecutionStarted { input, .. }
                | EventAttributes::WorkflowExecutionSignaled { input, .. } => input
                    .first()
                    .and_then(|p| p.metadata.get("encryption-key-id"))
                    .map(|k| String::from_utf8_lossy(k).into_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(keys, ["a", "b"]);
        w.shutdown().await;
    }

    an_unknown_key_fails_the_task_with_a_clear_error(sqlite) {
        let env = env(sqlite).await;
        let writer = env.client.clone().with_data_converter(DataConverter::new().with_codec(key_a()));
        let h = writer
            .start_workflow(Numbers::run, 3, WorkflowOptions::new("unknown-key", QUEUE))
            .await
            .unwrap();
        let only_b = DataConverter::new().with_codec(EncryptionCodec::new("b", &KEY_B).unwrap());
        let reader = env.client.clone().with_data_converter(only_b);
        let w = worker(&reader);
        let failure = task_failure(&h).await;
        assert!(failure.contains("names key \"a\""), "{failure}");
        assert!(failure.contains("with_decryption_key"), "{failure}");
        h.terminate("unreadable").await.unwrap();
        w.shutdown().await;
    }

    a_changed_payload_fails_authentication(sqlite) {
        let env = env(sqlite).await;
        let client = env.client.clone().with_data_converter(DataConverter::new().with_codec(key_a()));
        let w = worker(&client);
        let h = client
            .start_workflow(Vault::run, "again tamper".to_string(), WorkflowOptions::new("tamper", QUEUE))
            .await
            .unwrap();
        let _: String = within(h.query("note", &())).await.unwrap();
        // A signal sealed by the right key, one bit flipped, sent past the
        // codec straight to the engine.
        let mut sealed = key_a().encode(vec![encode(&"forged").unwrap()]).unwrap();
        let last = sealed[0].data.len() - 1;
        sealed[0].data[last] ^= 1;
        env.engine
            .signal_workflow(SignalRequest {
                namespace: "default".into(),
                workflow_id: "tamper".into(),
                run_id: None,
                signal_name: "finish".into(),
                input: sealed,
                request_id: "forged".into(),
            })
            .await
            .unwrap();
        let failure = task_failure(&h).await;
        assert!(failure.contains("failed authentication"), "{failure}");
        h.terminate("tampered").await.unwrap();
        w.shutdown().await;
    }
}

/// The leak check itself finds the marker when nothing encrypts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_codec_the_store_holds_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("weft.db");
    let engine = Engine::sqlite(&db).await.unwrap();
    let client = Client::new(engine.clone());
    let w = worker(&client);
    let (_, task_failure) = every_path(&client).await;
    assert!(task_failure.contains(MARKER), "{task_failure}");
    w.shutdown().await;
    assert!(file_leaks(&db) || file_leaks(&wal(&db)));
    engine.shutdown().await;
    assert!(file_leaks(&db));
}
