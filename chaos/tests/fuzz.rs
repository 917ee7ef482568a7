//! Fuzzing, bounded for CI (`WEFT_FUZZ_ITERS=100000 cargo test --release
//! -p weft-chaos --test fuzz` by hand): payload decoding, the encryption
//! codec's decoding, history import (the `Replayer`'s input) and the
//! store's row decoding (an engine started on mutated rows) answer bad
//! input with errors, never a panic.
//! Seeds come from a real run of the chaos workload on a SQLite file.

use std::collections::BTreeMap;
use std::path::Path;

use weft::backend::BackendError;
use weft::converter::encryption::{ENCODING_ENCRYPTED, EncryptionCodec, KEY_ID_KEY};
use weft::converter::{DataConverter, PayloadCodec};
use weft::engine::store::{ExecutionRow, Loaded, StoreOp};
use weft::engine::{Engine, EngineOptions, SqliteStore, Store};
use weft::replay::Replayer;
use weft::{Client, Payload, WorkflowOptions};
use weft_chaos::fuzz::{self, Rng};
use weft_chaos::workload::{self, ChainInput, Step};
use weft_chaos::{epoch, ledger};

/// Runs a small epoch on a file in `dir`; returns its histories as JSON.
fn seed_run(dir: &Path) -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        ledger::open(&dir.join("ledger.log"), 1).unwrap();
        let engine = Engine::sqlite(dir.join("chaos.db")).await.unwrap();
        let client = Client::new(engine.clone());
        let worker = workload::worker(&client).start().unwrap();
        let plan = epoch::Plan {
            steps: 1,
            chains: 1,
            beats: 2,
            schedule_actions: 1,
            ..epoch::Plan::default()
        };
        epoch::run(&client, 0, plan).await.unwrap();
        let mut out = Vec::new();
        for id in [
            "e0-steps-0",
            "e0-chain-0",
            "e0-tally",
            "e0-cart",
            "e0-parent",
            "e0-cancel",
        ] {
            let handle = client.workflow_handle::<workload::Steps>(id, None);
            out.push(handle.history_json().await.unwrap());
        }
        worker.shutdown().await;
        engine.shutdown().await;
        out
    })
}

fn assert_no_panics(target: &str) {
    let panics = fuzz::panics();
    assert!(
        panics.is_empty(),
        "{target}: {} panics: {panics:#?}",
        panics.len()
    );
}

#[test]
fn fuzz_targets_answer_bad_input_without_panicking() {
    fuzz::record_panics();
    let dir = tempfile::tempdir().unwrap();
    let histories = seed_run(dir.path());
    let seeds = seed_payloads(&histories);
    payloads(&seeds);
    assert_no_panics("payload decoding");
    codec_decoding(&seeds);
    assert_no_panics("codec decoding");
    history_import(&histories);
    assert_no_panics("history import");
    store_rows(&dir.path().join("chaos.db"));
    assert_no_panics("store rows");
}

/// Decodes a payload as every type the workload uses, and as JSON values.
fn decode_all(p: &Payload) {
    let _ = weft::converter::decode::<i64>(p);
    let _ = weft::converter::decode::<u32>(p);
    let _ = weft::converter::decode::<f64>(p);
    let _ = weft::converter::decode::<String>(p);
    let _ = weft::converter::decode::<()>(p);
    let _ = weft::converter::decode::<Option<Vec<u8>>>(p);
    let _ = weft::converter::decode::<Step>(p);
    let _ = weft::converter::decode::<ChainInput>(p);
    let _ = weft::converter::decode::<BTreeMap<String, i64>>(p);
    let _ = weft::converter::decode::<serde_json::Value>(p);
    let _ = weft::converter::decode_single::<Step>(std::slice::from_ref(p));
}

/// A few payloads, and every activity result of the seed run.
fn seed_payloads(histories: &[String]) -> Vec<Payload> {
    let mut seeds: Vec<Payload> = vec![
        weft::converter::encode(&Step {
            tag: "t".into(),
            value: 3,
        })
        .unwrap(),
        weft::converter::encode(&()).unwrap(),
        weft::converter::encode(&vec![1u8, 2, 3]).unwrap(),
    ];
    for h in histories {
        for e in weft::history::from_json(h).unwrap() {
            if let weft::history::EventAttributes::ActivityTaskCompleted { result, .. } =
                e.attributes
            {
                seeds.push(result);
            }
        }
    }
    seeds
}

fn payloads(seeds: &[Payload]) {
    let encodings: [&[u8]; 5] = [
        b"json/plain",
        b"binary/null",
        b"binary/plain",
        b"json/protobuf",
        b"\xff",
    ];
    let mut rng = Rng::new(1);
    for _ in 0..fuzz::iterations(3000) {
        let mut p = seeds[rng.below(seeds.len())].clone();
        let other = seeds[rng.below(seeds.len())].data.clone();
        fuzz::mutate_bytes(&mut rng, &mut p.data, &other);
        if rng.below(4) == 0 {
            let encoding = encodings[rng.below(encodings.len())].to_vec();
            p.metadata.insert("encoding".into(), encoding);
        }
        decode_all(&p);
        // The payload as it travels in JSON (base64 data), mutated there.
        let mut text = serde_json::to_vec(&p).unwrap();
        fuzz::mutate_bytes(&mut rng, &mut text, &other);
        if let Ok(p) = serde_json::from_slice::<Payload>(&text) {
            decode_all(&p);
        }
    }
}

/// Encrypted payloads changed after encryption (their data, key id or
/// encoding): the codec answers with an error, never a panic, and never
/// opens one to anything but the value sealed; one that no longer says it
/// is encrypted passes through as it is, as a codec must leave alone what
/// it did not produce.
fn codec_decoding(seeds: &[Payload]) {
    let (old_key, new_key) = ([1u8; 32], [2u8; 32]);
    let old = EncryptionCodec::new("old", &old_key).unwrap();
    let codec = EncryptionCodec::new("new", &new_key)
        .unwrap()
        .with_decryption_key("old", &old_key)
        .unwrap();
    let converter = DataConverter::new().with_codec(codec);
    let mut sealed = old.encode(seeds.to_vec()).unwrap();
    sealed.extend(converter.encode(seeds.to_vec()).unwrap());
    let plain: Vec<&Payload> = seeds.iter().chain(seeds).collect();
    let key_ids: [&[u8]; 5] = [b"old", b"new", b"", b"\xff", b"other"];
    let encodings: [&[u8]; 3] = [ENCODING_ENCRYPTED.as_bytes(), b"json/plain", b"binary/null"];
    let mut rng = Rng::new(4);
    for _ in 0..fuzz::iterations(2000) {
        let i = rng.below(sealed.len());
        let mut p = sealed[i].clone();
        let other = sealed[rng.below(sealed.len())].data.clone();
        match rng.below(4) {
            0 => {
                let id = key_ids[rng.below(key_ids.len())].to_vec();
                p.metadata.insert(KEY_ID_KEY.into(), id);
            }
            1 => {
                let encoding = encodings[rng.below(encodings.len())].to_vec();
                p.metadata.insert("encoding".into(), encoding);
            }
            2 => {
                p.metadata.remove(KEY_ID_KEY);
            }
            _ => fuzz::mutate_bytes(&mut rng, &mut p.data, &other),
        }
        let Ok(opened) = converter.decode(vec![p.clone()]) else {
            continue;
        };
        let want = if p.encoding() == Some(ENCODING_ENCRYPTED) {
            plain[i]
        } else {
            &p
        };
        assert!(
            opened == [want.clone()],
            "payload {i} opened to something else"
        );
        decode_all(&opened[0]);
    }
}

fn replayer() -> Replayer {
    let mut r = Replayer::new();
    r.register_workflow::<workload::Steps>()
        .register_workflow::<workload::Chain>()
        .register_workflow::<workload::Beats>()
        .register_workflow::<workload::Tally>()
        .register_workflow::<workload::Cart>()
        .register_workflow::<workload::Parent>()
        .register_workflow::<workload::Cancellable>();
    r
}

fn history_import(histories: &[String]) {
    let replayer = replayer();
    for h in histories {
        // The seeds themselves replay cleanly (as their own workflow ids).
        let events = weft::history::from_json(h).unwrap();
        let _ = replayer.replay(&events);
    }
    let values: Vec<serde_json::Value> = histories
        .iter()
        .map(|h| serde_json::from_str(h).unwrap())
        .collect();
    let mut rng = Rng::new(2);
    for _ in 0..fuzz::iterations(2000) {
        let i = rng.below(histories.len());
        if rng.below(3) == 0 {
            let mut bytes = histories[i].clone().into_bytes();
            let other = histories[rng.below(histories.len())].as_bytes();
            fuzz::mutate_bytes(&mut rng, &mut bytes, other);
            let _ = replayer.replay_json(&String::from_utf8_lossy(&bytes));
        } else {
            let mut v = values[i].clone();
            for _ in 0..=rng.below(3) {
                fuzz::mutate_json(&mut rng, &mut v);
            }
            let _ = replayer.replay_json(&v.to_string());
        }
    }
}

/// A store serving fixed rows; commits are kept nowhere (an engine on it
/// may write, but the test only reads what it decoded).
struct RowStore {
    loaded: Loaded,
    events: BTreeMap<String, Vec<Vec<u8>>>,
    activities: BTreeMap<String, Vec<(i64, Vec<u8>)>>,
    updates: BTreeMap<String, Vec<(String, Vec<u8>)>>,
}

impl Store for RowStore {
    fn load(&mut self) -> Result<Loaded, BackendError> {
        Ok(self.loaded.clone())
    }
    fn events(&mut self, _: &str, run_id: &str, _from: i64) -> Result<Vec<Vec<u8>>, BackendError> {
        // Every row: a row may hold several events, and the engine keeps
        // those from `from` on.
        Ok(self.events.get(run_id).cloned().unwrap_or_default())
    }
    fn activities(&mut self, _: &str, run_id: &str) -> Result<Vec<(i64, Vec<u8>)>, BackendError> {
        Ok(self.activities.get(run_id).cloned().unwrap_or_default())
    }
    fn updates(&mut self, _: &str, run_id: &str) -> Result<Vec<(String, Vec<u8>)>, BackendError> {
        Ok(self.updates.get(run_id).cloned().unwrap_or_default())
    }
    fn execution(&mut self, _: &str, run_id: &str) -> Result<Option<ExecutionRow>, BackendError> {
        Ok(self
            .loaded
            .open
            .iter()
            .find(|r| &*r.run_id == run_id)
            .cloned())
    }
    fn commit(&mut self, _: &[StoreOp]) -> Result<(), BackendError> {
        Ok(())
    }
}

/// Every row of the file, as the engine would load it. All runs are
/// served as open, so their state rows are decoded too.
fn rows_of(db: &Path) -> RowStore {
    let mut store = SqliteStore::open(db).unwrap();
    let runs = store.list_executions().unwrap();
    let mut rows = RowStore {
        loaded: store.load().unwrap(),
        events: BTreeMap::new(),
        activities: BTreeMap::new(),
        updates: BTreeMap::new(),
    };
    rows.loaded.open.clear();
    for run in runs {
        let row = store
            .execution(&run.namespace, &run.run_id)
            .unwrap()
            .unwrap();
        let events = store.events(&run.namespace, &run.run_id, 1).unwrap();
        let activities = store.activities(&run.namespace, &run.run_id).unwrap();
        let updates = store.updates(&run.namespace, &run.run_id).unwrap();
        rows.events.insert(run.run_id.clone(), events);
        rows.activities.insert(run.run_id.clone(), activities);
        rows.updates.insert(run.run_id.clone(), updates);
        rows.loaded.open.push(ExecutionRow {
            status: weft::backend::RunStatus::Running,
            ..row
        });
    }
    rows
}

/// Mutates one blob among `rows`' rows.
fn mutate_rows(rng: &mut Rng, rows: &mut RowStore) {
    let other = rows
        .loaded
        .open
        .first()
        .map(|r| r.state.clone())
        .unwrap_or_default();
    let blob: &mut Vec<u8> = match rng.below(5) {
        0 | 1 => {
            let i = rng.below(rows.loaded.open.len());
            &mut rows.loaded.open[i].state
        }
        2 => {
            let which = rng.below(rows.events.len());
            let Some(evs) = rows.events.values_mut().nth(which) else {
                return;
            };
            let n = evs.len();
            let Some(e) = evs.get_mut(rng.below(n)) else {
                return;
            };
            e
        }
        3 if !rows.loaded.schedules.is_empty() => {
            let i = rng.below(rows.loaded.schedules.len());
            &mut rows.loaded.schedules[i].data
        }
        _ => {
            let Some(acts) = rows.activities.values_mut().find(|a| !a.is_empty()) else {
                return;
            };
            let n = acts.len();
            &mut acts[rng.below(n)].1
        }
    };
    fuzz::mutate_bytes(rng, blob, &other);
}

fn store_rows(db: &Path) {
    let seed = rows_of(db);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut rng = Rng::new(3);
    for _ in 0..fuzz::iterations(300) {
        let mut rows = RowStore {
            loaded: seed.loaded.clone(),
            events: seed.events.clone(),
            activities: seed.activities.clone(),
            updates: seed.updates.clone(),
        };
        for _ in 0..=rng.below(2) {
            mutate_rows(&mut rng, &mut rows);
        }
        let runs: Vec<(String, String)> = rows
            .loaded
            .open
            .iter()
            .map(|r| (r.workflow_id.clone(), r.run_id.to_string()))
            .collect();
        rt.block_on(async {
            let Ok(engine) = Engine::start(rows, EngineOptions::default()) else {
                return;
            };
            let client = Client::new(engine.clone());
            let backend = client.backend();
            for (wf, run) in &runs {
                let _ = backend.history("default", wf, Some(run)).await;
                let _ = backend.describe("default", wf, Some(run)).await;
            }
            let _ = client
                .start_workflow(
                    workload::Steps::run,
                    1,
                    WorkflowOptions::new("fuzz", "nowhere"),
                )
                .await;
            engine.shutdown().await;
        });
    }
}
