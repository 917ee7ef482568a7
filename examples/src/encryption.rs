//! Encryption: a payload codec encrypts every payload the client and the
//! worker send, so the engine and its SQLite file only hold ciphertext;
//! only holders of the key read inputs, results and failures.

use weft::converter::encryption::{EncryptionCodec, KEY_ID_KEY};
use weft::converter::{CodecError, DataConverter};
use weft::history::EventAttributes;
use weft::prelude::*;

use crate::support::{ExampleError, options};

/// Task queue of this example.
pub const TASK_QUEUE: &str = "encrypted-task-queue";
/// Its workflow id.
pub const WORKFLOW_ID: &str = "encryption-workflow-id";

// ANCHOR: codec
/// The key id recorded with every payload, so a later key can be rotated in.
pub const KEY_ID: &str = "production-key-id";

/// A fixed demonstration key. A real deployment loads its keys from a
/// secret store or the environment, never from code.
const DEMO_KEY: [u8; 32] = *b"weft-demo-key-not-for-production";

/// The converter the client and its worker share: AES-256-GCM on every
/// payload, failure messages included.
pub fn converter() -> Result<DataConverter, CodecError> {
    let codec = EncryptionCodec::new(KEY_ID, &DEMO_KEY)?;
    Ok(DataConverter::new()
        .with_codec(codec)
        .encode_failure_attributes(true))
}
// ANCHOR_END: codec

// ANCHOR: rotation
/// After a rotation: new payloads use `new_key` (id `key-2026`); payloads
/// written under `key-2025` still decrypt.
pub fn rotated(new_key: &[u8; 32], old_key: &[u8; 32]) -> Result<EncryptionCodec, CodecError> {
    EncryptionCodec::new("key-2026", new_key)?.with_decryption_key("key-2025", old_key)
}
// ANCHOR_END: rotation

// ANCHOR: workflow
#[activity]
pub async fn compose_greeting(name: String) -> Result<String, ApplicationError> {
    Ok(format!("Hello, {name}!"))
}

#[workflow]
#[derive(Default)]
pub struct GreetingWorkflow;

#[workflow]
impl GreetingWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, name: String) -> WorkflowResult<String> {
        Ok(ctx
            .activity(COMPOSE_GREETING, name)
            .start_to_close_timeout(Duration::from_secs(10))
            .await?)
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue, seeing the backend through the
/// encrypting converter.
pub fn worker(client: &Client) -> Worker {
    // The demo key is 32 bytes, so building the codec cannot fail; a key
    // loaded at run time would be checked where it is loaded.
    let client = match converter() {
        Ok(converter) => client.clone().with_data_converter(converter),
        Err(e) => {
            tracing::error!(error = %e, "the encryption codec could not be built");
            client.clone()
        }
    };
    Worker::new(&client, TASK_QUEUE)
        .register_workflow::<GreetingWorkflow>()
        .register_activity(COMPOSE_GREETING)
}

/// Runs the workflow through an encrypting client, then reads its history
/// as the engine stores it.
pub async fn run(client: &Client) -> Result<Vec<String>, ExampleError> {
    // ANCHOR: client
    let encrypted = client
        .clone()
        .with_data_converter(converter().map_err(weft::backend::BackendError::from)?);
    let result = encrypted
        .execute_workflow(
            GreetingWorkflow::run,
            "encrypted world".to_string(),
            options(WORKFLOW_ID, TASK_QUEUE),
        )
        .await?;
    // ANCHOR_END: client

    // ANCHOR: stored
    // The same history through a client without the codec: what the
    // engine stores.
    let stored = client
        .workflow_handle::<GreetingWorkflow>(WORKFLOW_ID, None)
        .history()
        .await?;
    let mut lines = Vec::new();
    if let Some(EventAttributes::WorkflowExecutionStarted { input, .. }) =
        stored.first().map(|e| &e.attributes)
        && let Some(payload) = input.first()
    {
        let key = payload
            .metadata
            .get(KEY_ID_KEY)
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        lines.push(format!(
            "stored input: {} (key {key}, {} bytes)",
            payload.encoding().unwrap_or("?"),
            payload.data.len()
        ));
    }
    // ANCHOR_END: stored
    lines.push(format!("Result: {result}"));
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use weft::PayloadCodec as _;
    use weft::converter::{decode, encode};

    use super::*;

    #[test]
    fn a_rotated_codec_reads_the_old_key_and_writes_the_new() {
        let (old, new) = ([1u8; 32], [2u8; 32]);
        let before = EncryptionCodec::new("key-2025", &old).unwrap();
        let written = before.encode(vec![encode(&"kept").unwrap()]).unwrap();
        let after = rotated(&new, &old).unwrap();
        let read = after.decode(written).unwrap();
        assert_eq!(decode::<String>(&read[0]).unwrap(), "kept");
        let rewritten = after.encode(read).unwrap();
        let key = &rewritten[0].metadata[KEY_ID_KEY];
        assert_eq!(key.as_slice(), b"key-2026");
        assert!(
            before.decode(rewritten).is_err(),
            "the old codec lacks the new key"
        );
    }
}
