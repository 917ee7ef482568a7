//! Pydantic Converter: typed models whose rules are checked wherever a value
//! becomes a payload or is read from one, so invalid data is refused before
//! it is sent, and before any workflow or activity code sees it.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use weft::backend::StartWorkflowRequest;
use weft::converter::{Invalid, Validate};
use weft::prelude::*;

use crate::support::{ExampleError, options};

/// Task queue of this example.
pub const TASK_QUEUE: &str = "validated-models";

// ANCHOR: model
/// A user, as the reference's Pydantic model: the IP address is a typed
/// IPv4 address (serde refuses anything else), the id must be positive.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct UserData {
    pub user_id: i64,
    pub ip_address: Ipv4Addr,
}

impl Validate for UserData {
    fn validate(&self) -> Result<(), Invalid> {
        if self.user_id <= 0 {
            return Err(Invalid::new(
                "user_id",
                "positive",
                "user_id must be positive",
            ));
        }
        Ok(())
    }
}

// Serialize and Deserialize that check the rules on every encoding and
// decoding, around the code serde's derive wrote.
weft::validated!(UserData);
// ANCHOR_END: model

// ANCHOR: workflow
/// Logs each user and returns how many there were.
#[activity]
pub async fn process_users(users: Vec<UserData>) -> Result<usize, ApplicationError> {
    tracing::info!("Processing {} users", users.len());
    for user in &users {
        tracing::info!("Processing user {} from {}", user.user_id, user.ip_address);
    }
    Ok(users.len())
}

#[workflow]
#[derive(Default)]
pub struct ValidatedModelsWorkflow;

#[workflow]
impl ValidatedModelsWorkflow {
    #[run]
    pub async fn run(ctx: WorkflowContext<Self>, users: Vec<UserData>) -> WorkflowResult<usize> {
        Ok(ctx
            .activity(PROCESS_USERS, users)
            .start_to_close_timeout(Duration::from_secs(60))
            .await?)
    }
}
// ANCHOR_END: workflow

/// A worker for this example's task queue.
pub fn worker(client: &Client) -> Worker {
    Worker::new(client, TASK_QUEUE)
        .register_workflow::<ValidatedModelsWorkflow>()
        .register_activity(PROCESS_USERS)
}

fn user(user_id: i64, ip: [u8; 4]) -> UserData {
    UserData {
        user_id,
        ip_address: Ipv4Addr::from(ip),
    }
}

/// Processes two users; then a user with id 0 is refused by the client,
/// and the same user sent as raw JSON (as another SDK might) is refused by
/// the worker before the workflow runs.
pub async fn run(client: &Client) -> Result<Vec<String>, ExampleError> {
    // ANCHOR: client
    let users = vec![user(1, [192, 168, 1, 1]), user(2, [10, 0, 0, 1])];
    let count = client
        .execute_workflow(
            ValidatedModelsWorkflow::run,
            users,
            options("validated-models-1", TASK_QUEUE),
        )
        .await?;
    let mut lines = vec![format!("Processed {count} users")];

    // The client encodes the input, and the rules refuse it: nothing is sent.
    let refused = client
        .start_workflow(
            ValidatedModelsWorkflow::run,
            vec![user(0, [10, 0, 0, 2])],
            options("validated-models-2", TASK_QUEUE),
        )
        .await;
    match refused {
        Ok(_) => lines.push("unexpectedly started".into()),
        Err(e) => lines.push(format!("client refused: {e}")),
    }
    // ANCHOR_END: client

    // ANCHOR: raw
    // A payload from elsewhere skips the client's check; the worker decodes
    // it, the rules refuse it, and the run fails (non-retryable) before its
    // code runs.
    let raw = r#"[{"user_id":0,"ip_address":"10.0.0.2"}]"#;
    let request = StartWorkflowRequest {
        namespace: client.namespace().to_string(),
        workflow_id: "validated-models-3".into(),
        workflow_type: "ValidatedModelsWorkflow".into(),
        task_queue: TASK_QUEUE.into(),
        input: vec![json_payload(raw)],
        request_id: "validated-models-3".into(),
        id_reuse_policy: Default::default(),
        id_conflict_policy: IdConflictPolicy::UseExisting,
        run_options: Default::default(),
    };
    client.backend().start_workflow(request).await?;
    let handle = client.workflow_handle::<ValidatedModelsWorkflow>("validated-models-3", None);
    match handle.result().await {
        Ok(count) => lines.push(format!("unexpectedly processed {count} users")),
        Err(e) => lines.push(format!("worker refused: {e:#}")),
    }
    // ANCHOR_END: raw
    Ok(lines)
}

/// A `json/plain` payload holding `json` as it is.
fn json_payload(json: &str) -> weft::Payload {
    let mut payload = weft::Payload {
        data: json.as_bytes().to_vec(),
        ..Default::default()
    };
    payload.metadata.insert(
        weft::converter::ENCODING_KEY.into(),
        weft::converter::ENCODING_JSON.into(),
    );
    payload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_hold_on_both_ways() {
        let good = user(7, [127, 0, 0, 1]);
        let payload = weft::converter::encode(&good).unwrap();
        assert_eq!(weft::converter::decode::<UserData>(&payload).unwrap(), good);
        let err = weft::converter::encode(&user(-1, [127, 0, 0, 1])).unwrap_err();
        assert!(
            err.to_string().contains("user_id must be positive"),
            "{err}"
        );
        let bad_ip = json_payload(r#"{"user_id":1,"ip_address":"300.1.1.1"}"#);
        let err = weft::converter::decode::<UserData>(&bad_ip).unwrap_err();
        assert!(err.to_string().contains("ip_address"), "{err}");
    }
}
