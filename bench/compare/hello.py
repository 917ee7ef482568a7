"""The `hello` workload of weft-bench, on Temporal: N one-activity workflows
started by a client with C in flight, a worker in the same process.

Prints one JSON object: completed, throughput (workflows/s), latency p50/p99
and max (ms, start to result), and how many calls the server let time out
(each retried: the start with the same workflow id joins the run already
started, so no workflow runs twice; the retries count in the latency)."""

import argparse
import asyncio
import json
import math
import os
import sys
import time
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

TASK_QUEUE = "bench"


@activity.defn
async def say_hello(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn
class Hello:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            say_hello, name, start_to_close_timeout=timedelta(seconds=30)
        )


def percentile(sorted_samples, p):
    rank = math.ceil(p / 100 * len(sorted_samples))
    return sorted_samples[min(max(rank, 1), len(sorted_samples)) - 1]


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1:7233")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--c", type=int, default=1_000)
    args = parser.parse_args()

    client = await Client.connect(args.address)
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[Hello],
        activities=[say_hello],
        # The sandbox re-imports modules per workflow run; weft has no such
        # cost, so it is off here to compare the engines, not the sandbox.
        workflow_runner=UnsandboxedWorkflowRunner(),
        max_concurrent_activities=max(100, min(args.c, 2000)),
        max_concurrent_workflow_tasks=max(4, min(args.c, 1000)),
    )
    run_tag = int(time.time())
    latencies = []
    next_index = 0
    timeouts = 0

    async def hello(i, name):
        nonlocal timeouts
        while True:
            try:
                handle = await client.start_workflow(
                    Hello.run,
                    name,
                    id=f"hello-{run_tag}-{i}",
                    task_queue=TASK_QUEUE,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                )
                return await handle.result()
            except RPCError as e:
                if e.status not in (
                    RPCStatusCode.DEADLINE_EXCEEDED,
                    RPCStatusCode.UNAVAILABLE,
                    RPCStatusCode.CANCELLED,
                    RPCStatusCode.UNKNOWN,
                ):
                    raise
                timeouts += 1

    async def caller():
        nonlocal next_index
        while next_index < args.n:
            i = next_index
            next_index += 1
            name = f"w{i}"
            begun = time.perf_counter()
            greeting = await hello(i, name)
            latencies.append(time.perf_counter() - begun)
            if greeting != f"Hello, {name}!":
                raise RuntimeError(f"workflow hello-{i} returned {greeting!r}")

    async with worker:
        start = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(min(args.c, args.n))))
        elapsed = time.perf_counter() - start

    latencies.sort()
    print(
        json.dumps(
            {
                "completed": len(latencies),
                "throughput": len(latencies) / elapsed,
                "latency_p50": percentile(latencies, 50) * 1e3,
                "latency_p99": percentile(latencies, 99) * 1e3,
                "latency_max": latencies[-1] * 1e3,
                "timeouts_retried": timeouts,
            }
        )
    )


if __name__ == "__main__":
    code = 0
    try:
        asyncio.run(main())
    except Exception as e:  # noqa: BLE001 - reported, then a non-zero exit
        print(f"hello.py: {e!r}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # The SDK's native threads can hang or abort the interpreter's
    # finalization ("PyGILState_Release ... must be current").
    os._exit(code)
