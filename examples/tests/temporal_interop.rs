//! weft and Temporal's Python SDK on one dev server: a Python worker hosts
//! the reference's activities and a weft workflow calls them on a shared
//! task queue; a Python client runs a weft workflow; a weft client runs
//! Python workflows. Payloads (JSON) and failures cross both ways with their
//! types and messages.
//!
//! Needs `python3` with `temporalio` (pip install temporalio); skipped
//! without it unless `WEFT_REQUIRE_TEMPORAL=1`, which makes it fail.

#[path = "../../runtime/tests/temporal_support/mod.rs"]
mod temporal_support;

use std::process::Stdio;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use weft::prelude::*;
use weft::{ClientError, Failure};
use weft_examples::activity_choice::{self, PurchaseFruits};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/python_peer.py");
/// Python's workflows poll here; its activities share weft's queue.
const PY_WORKFLOWS: &str = "python-workflows";

/// An activity only the Python worker hosts (declared here to be called).
#[activity(start_to_close_timeout = "5s")]
async fn py_refuse(name: String) -> Result<String, ApplicationError> {
    Err(ApplicationError::new(format!("not hosted here: {name}")))
}

#[workflow]
async fn calls_python(ctx: WorkflowContext, name: String) -> WorkflowResult<String> {
    Ok(ctx.activity(PY_REFUSE, name).await?)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct EchoIn {
    from: String,
    n: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct EchoOut {
    py_got: EchoIn,
    py_type: String,
}

/// Python's `PyEcho` workflow, declared for weft's typed client; it runs
/// in Python only.
#[workflow]
async fn py_echo(_ctx: WorkflowContext, input: EchoIn) -> WorkflowResult<EchoOut> {
    Err(ApplicationError::new(format!("PyEcho runs in Python, not here ({input:?})")).into())
}

/// Python's `PyFail` workflow, declared for weft's typed client.
#[workflow]
async fn py_fail(_ctx: WorkflowContext, reason: String) -> WorkflowResult<()> {
    Err(ApplicationError::new(format!("PyFail runs in Python, not here ({reason})")).into())
}

fn python_has_temporalio() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import temporalio"])
        .output()
        .is_ok_and(|o| o.status.success())
}

async fn python_worker(target: &str) -> Child {
    let mut child = Command::new("python3")
        .args([
            SCRIPT,
            "worker",
            target,
            activity_choice::TASK_QUEUE,
            PY_WORKFLOWS,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the Python worker");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next_line().await.expect("read the Python worker");
    assert_eq!(
        first.as_deref(),
        Some("ready"),
        "the Python worker did not start"
    );
    child
}

async fn python_client(
    target: &str,
    id: &str,
    workflow_type: &str,
    input: &str,
) -> serde_json::Value {
    let out = Command::new("python3")
        .args([
            SCRIPT,
            "client",
            target,
            activity_choice::TASK_QUEUE,
            id,
            workflow_type,
            input,
        ])
        .output()
        .await
        .expect("run the Python client");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the Python client's JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weft_and_python_share_a_cluster() {
    let Some(server) = temporal_support::start(&[]).await else {
        return;
    };
    if !python_has_temporalio() {
        let message = "python3 has no temporalio (pip install temporalio)";
        assert!(
            std::env::var("WEFT_REQUIRE_TEMPORAL").as_deref() != Ok("1"),
            "WEFT_REQUIRE_TEMPORAL=1: {message}"
        );
        eprintln!("skipped: {message}");
        return;
    }
    let client = server.client().await;
    let _python = python_worker(&server.target).await;
    // weft's worker runs the workflows only: Python hosts the activities.
    let worker = Worker::new(&client, activity_choice::TASK_QUEUE)
        .register_workflow::<PurchaseFruits>()
        .register_workflow::<CallsPython>()
        .start()
        .unwrap();

    // A weft workflow calling the Python activities.
    use activity_choice::Fruit::{Apple, Banana};
    let list = weft_examples::tour::shopping_list(&[(Apple, 8), (Banana, 5)]);
    let ordered = activity_choice::order(&client, "interop-fruits", list)
        .await
        .unwrap();
    assert_eq!(ordered, "Ordered 8 Apples...Ordered 5 Bananas...");

    // A Python activity's failure reaches the weft workflow, then its caller.
    let err = client
        .execute_workflow(
            calls_python,
            "weft".into(),
            WorkflowOptions::new("interop-refused", activity_choice::TASK_QUEUE),
        )
        .await
        .unwrap_err();
    let ClientError::Workflow(err) = err else {
        panic!("{err:?}")
    };
    let Failure::Activity(activity) = &err.cause else {
        panic!("{:?}", err.cause)
    };
    let Failure::Application(app) = &*activity.cause else {
        panic!("{:?}", activity.cause)
    };
    assert_eq!(app.message, "python refuses weft");
    assert_eq!(app.type_name, "PyRefused");
    assert!(app.non_retryable);

    // A Python client runs a weft workflow and reads its result, then its failure.
    let input = r#"{"items":[{"fruit":"Apple","amount":2}]}"#;
    let answer = python_client(&server.target, "interop-py-client", "PurchaseFruits", input).await;
    assert_eq!(answer["result"], "Ordered 2 Apples...");
    let input = r#"{"items":[{"fruit":"Cherry","amount":1}]}"#;
    let answer = python_client(
        &server.target,
        "interop-py-client-2",
        "PurchaseFruits",
        input,
    )
    .await;
    assert_eq!(answer["failure"]["class"], "ApplicationError", "{answer}");
    assert_eq!(
        answer["failure"]["message"], "Unrecognized fruit: Cherry",
        "{answer}"
    );

    // weft's client runs Python workflows: a dict echoed back, and a failure.
    let echoed = client
        .execute_workflow(
            py_echo,
            EchoIn {
                from: "weft".into(),
                n: 7,
            },
            WorkflowOptions::new("interop-echo", PY_WORKFLOWS),
        )
        .await
        .unwrap();
    assert_eq!(
        echoed.py_got,
        EchoIn {
            from: "weft".into(),
            n: 7
        }
    );
    assert_eq!(echoed.py_type, "dict");
    let err = client
        .execute_workflow(
            py_fail,
            "because".into(),
            WorkflowOptions::new("interop-fail", PY_WORKFLOWS),
        )
        .await
        .unwrap_err();
    let ClientError::Workflow(err) = err else {
        panic!("{err:?}")
    };
    let Failure::Application(app) = &err.cause else {
        panic!("{:?}", err.cause)
    };
    assert_eq!(app.message, "python workflow failed: because");
    assert_eq!(app.type_name, "PyError");
    assert!(app.non_retryable);
    worker.shutdown().await;
}
