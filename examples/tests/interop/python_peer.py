"""The Python side of the interop test: Temporal's Python SDK beside weft.

  python_peer.py worker TARGET ACTIVITY_QUEUE WORKFLOW_QUEUE
      Hosts the reference's activity-choice activities (and one that fails)
      on ACTIVITY_QUEUE, and two Python workflows on WORKFLOW_QUEUE; prints
      "ready" once polling, runs until stdin closes.
  python_peer.py client TARGET QUEUE WORKFLOW_ID WORKFLOW_TYPE JSON_INPUT
      Runs a workflow (a weft one) and prints its result or failure as JSON.
"""

import asyncio
import json
import os
import sys
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker


@activity.defn
def order_apples(amount: int) -> str:
    return f"Ordered {amount} Apples..."


@activity.defn
def order_bananas(amount: int) -> str:
    return f"Ordered {amount} Bananas..."


@activity.defn
def py_refuse(name: str) -> str:
    raise ApplicationError(f"python refuses {name}", type="PyRefused", non_retryable=True)


@workflow.defn(name="PyEcho")
class PyEcho:
    @workflow.run
    async def run(self, value: dict) -> dict:
        return {"py_got": value, "py_type": type(value).__name__}


@workflow.defn(name="PyFail")
class PyFail:
    @workflow.run
    async def run(self, reason: str) -> None:
        raise ApplicationError(f"python workflow failed: {reason}", type="PyError", non_retryable=True)


async def worker(target: str, activity_queue: str, workflow_queue: str) -> None:
    client = await Client.connect(target)
    # Sync activities run on a thread pool.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        activities = Worker(
            client,
            task_queue=activity_queue,
            activities=[order_apples, order_bananas, py_refuse],
            activity_executor=pool,
        )
        workflows = Worker(client, task_queue=workflow_queue, workflows=[PyEcho, PyFail])
        async with activities, workflows:
            print("ready", flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def failure(e: BaseException) -> dict:
    out = {"class": type(e).__name__, "message": getattr(e, "message", str(e))}
    if isinstance(e, ApplicationError):
        out["type"] = e.type
        out["non_retryable"] = e.non_retryable
    if e.__cause__ is not None:
        out["cause"] = failure(e.__cause__)
    return out


async def run_client(target: str, queue: str, wf_id: str, wf_type: str, arg: str) -> None:
    client = await Client.connect(target)
    try:
        result = await client.execute_workflow(
            wf_type, json.loads(arg), id=wf_id, task_queue=queue,
            execution_timeout=timedelta(seconds=60),
        )
        print(json.dumps({"result": result}), flush=True)
    except WorkflowFailureError as e:
        print(json.dumps({"failure": failure(e.cause)}), flush=True)


if __name__ == "__main__":
    mode, rest = sys.argv[1], sys.argv[2:]
    if mode == "worker":
        asyncio.run(worker(*rest))
    else:
        asyncio.run(run_client(*rest))
        # The answer is printed and flushed. Leave without the interpreter's
        # finalization, which can race the SDK's Rust threads releasing the
        # GIL ("Fatal Python error: PyGILState_Release ... finalizing") and
        # turn a finished client into a failed process.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
