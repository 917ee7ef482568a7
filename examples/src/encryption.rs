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
            .activity(compose_greeting, name)
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
    let mut worker = Worker::new(&client, TASK_QUEUE);
    worker
        .register_workflow::<GreetingWorkflow>()
        .register_activity(compose_greeting);
    worker
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
