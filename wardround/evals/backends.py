"""Execution backends: run items with bounded concurrency, a per-item timeout and retries of transient errors.

- ``local``: an asyncio loop; async solvers are awaited, sync solvers run in a thread pool of ``concurrency``
  workers; retries via tenacity (exponential backoff with jitter).
- ``ray``: each item is a Ray task on whatever cluster ``ray.init`` reaches (``address=None`` starts a local
  one); at most ``concurrency`` tasks are in flight; a task over the timeout is cancelled; transient errors
  are resubmitted with the same backoff. Ray is an optional extra (``pip install 'wardround[ray]'``) imported
  only here, lazily.

Both call ``on_done(item, outcome)`` in the caller's thread as each item finishes, so records are written by one
writer and the two backends produce the same records.

A timed-out sync solver cannot be interrupted inside its thread (Python threads cannot be killed); the item is
recorded (or retried) at the timeout and the thread's late result is discarded.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from wardround.errors import ConfigError
from wardround.evals.tasks import EvalItem, Prediction, Score, Scorer, Solver, TransientError

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What happened to one item: its prediction and score, or the error that ended it."""

    prediction: Prediction | None
    score: Score | None
    latency_s: float
    attempts: int
    error: str | None = None


@dataclass
class RetryPolicy:
    """Per-item timeout and retries of transient errors (exponential backoff with full jitter)."""

    retries: int = 3
    timeout: float | None = None
    backoff: float = 0.5
    max_backoff: float = 30.0

    def wait(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        if self.backoff <= 0:
            return 0.0
        return min(self.max_backoff, self.backoff * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def is_retryable(exc: BaseException) -> bool:
    """Transient: ``TransientError``, timeouts, dropped connections, rate limits and server errors."""
    if isinstance(exc, TransientError | TimeoutError | ConnectionError):
        return True
    from wardround.llm import is_transient

    return is_transient(exc)


def describe(exc: BaseException) -> str:
    """``'<Type>: message'`` on one line."""
    text = " ".join(str(exc).split())
    if isinstance(exc, TimeoutError) and not text:
        text = "item timed out"
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


def execute(solver: Solver, scorer: Scorer, item: EvalItem) -> tuple[Prediction, Score, float]:
    """Solve and score one item synchronously; returns (prediction, score, solver seconds)."""
    t0 = time.perf_counter()
    pred = solver(item)
    if inspect.isawaitable(pred):
        pred = asyncio.run(_await(pred))
    latency = time.perf_counter() - t0
    return pred, scorer(item, pred), latency  # type: ignore[arg-type]


async def _await(aw: Any) -> Any:
    return await aw


OnDone = Callable[[EvalItem, Outcome], None]


class LocalBackend:
    """asyncio with a semaphore of ``concurrency`` and a thread pool for sync solvers."""

    name = "local"

    def __init__(self, concurrency: int = 4) -> None:
        self.concurrency = max(1, int(concurrency))

    def run(self, items: Sequence[EvalItem], solver: Solver, scorer: Scorer, policy: RetryPolicy,
            on_done: OnDone) -> None:
        """Run every item; returns when all have finished (each reported through ``on_done``)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self.arun(items, solver, scorer, policy, on_done))
            return
        # called from inside a running loop (e.g. Jupyter): run ours in a worker thread
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, self.arun(items, solver, scorer, policy, on_done)).result()

    async def arun(self, items: Sequence[EvalItem], solver: Solver, scorer: Scorer, policy: RetryPolicy,
                   on_done: OnDone) -> None:
        """The async form of ``run``."""
        is_async = inspect.iscoroutinefunction(solver) or inspect.iscoroutinefunction(
            type(solver).__call__ if not inspect.isfunction(solver) else None)
        loop = asyncio.get_running_loop()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="wardround-eval")
        sem = asyncio.Semaphore(self.concurrency)

        async def once(item: EvalItem) -> tuple[Prediction, Score, float]:
            if is_async:
                t0 = time.perf_counter()
                pred = await solver(item)  # type: ignore[misc]
                latency = time.perf_counter() - t0
                return pred, scorer(item, pred), latency
            return await loop.run_in_executor(pool, execute, solver, scorer, item)

        async def one(item: EvalItem) -> None:
            async with sem:
                attempt = 0
                t_start = time.perf_counter()
                while True:
                    attempt += 1
                    try:
                        coro = once(item)
                        pred, score, latency = await (asyncio.wait_for(coro, policy.timeout) if policy.timeout
                                                      else coro)
                        outcome = Outcome(pred, score, latency, attempt)
                        break
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - every failure becomes a record, never a crash
                        if isinstance(exc, ConfigError):  # a bad key or model name: retrying cannot help
                            raise
                        if attempt <= policy.retries and is_retryable(exc):
                            log.info("item %s: %s on attempt %d; retrying", item.id, describe(exc), attempt)
                            await asyncio.sleep(policy.wait(attempt))
                            continue
                        outcome = Outcome(None, None, time.perf_counter() - t_start, attempt, describe(exc))
                        break
                on_done(item, outcome)

        try:
            tasks = [asyncio.create_task(one(item)) for item in items]
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for t in pending:
                t.cancel()
            for t in done:
                if t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def _ray_execute(solver_scorer: tuple[Solver, Scorer], item: EvalItem) -> tuple[Prediction, Score, float]:
    """The Ray task body: solve and score one item in a worker."""
    solver, scorer = solver_scorer
    pred, score, latency = execute(solver, scorer, item)
    return pred.model_copy(update={"raw": None}), score, latency


class RayBackend:
    """Items as Ray tasks (``num_cpus`` each) with at most ``concurrency`` in flight."""

    name = "ray"

    def __init__(self, concurrency: int = 4, address: str | None = None, num_cpus: float = 1.0,
                 init_kwargs: dict[str, Any] | None = None) -> None:
        self.concurrency = max(1, int(concurrency))
        self.address = address
        self.num_cpus = num_cpus
        self.init_kwargs = init_kwargs or {}

    def _ray(self) -> Any:
        try:
            import ray
        except ImportError:
            raise ConfigError("backend: 'ray' needs Ray; install it with pip install 'wardround[ray]'") from None
        if not ray.is_initialized():
            kwargs = {"include_dashboard": False, "log_to_driver": False, "ignore_reinit_error": True,
                      **self.init_kwargs}
            if self.address:
                kwargs["address"] = self.address
            ray.init(**kwargs)
        return ray

    def run(self, items: Sequence[EvalItem], solver: Solver, scorer: Scorer, policy: RetryPolicy,
            on_done: OnDone) -> None:
        """Submit, collect as they finish, resubmit transient failures, cancel tasks over the timeout."""
        ray = self._ray()
        remote = ray.remote(num_cpus=self.num_cpus, max_retries=0)(_ray_execute)
        shared = ray.put((solver, scorer))
        queue: list[tuple[float, EvalItem, int, float]] = [(0.0, it, 1, 0.0) for it in reversed(items)]
        inflight: dict[Any, tuple[EvalItem, int, float, float]] = {}  # ref -> (item, attempt, submitted, first)

        def finish_error(item: EvalItem, attempt: int, first: float, exc: BaseException) -> None:
            if attempt <= policy.retries and is_retryable(exc):
                log.info("item %s: %s on attempt %d; retrying", item.id, describe(exc), attempt)
                queue.append((time.monotonic() + policy.wait(attempt), item, attempt + 1, first))
                return
            on_done(item, Outcome(None, None, time.monotonic() - first, attempt, describe(exc)))

        while queue or inflight:
            now = time.monotonic()
            while len(inflight) < self.concurrency:
                ready_idx = next((i for i in range(len(queue) - 1, -1, -1) if queue[i][0] <= now), None)
                if ready_idx is None:
                    break
                _, item, attempt, first = queue.pop(ready_idx)
                ref = remote.remote(shared, item)
                inflight[ref] = (item, attempt, now, first or now)
            if not inflight:
                time.sleep(min(0.05, max(0.0, min(q[0] for q in queue) - now)))
                continue
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0.05)
            for ref in ready:
                item, attempt, _submitted, first = inflight.pop(ref)
                try:
                    pred, score, latency = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - every failure becomes a record
                    cause = getattr(exc, "cause", None)
                    err = cause if isinstance(cause, BaseException) else exc
                    if isinstance(err, ConfigError):
                        raise err from None
                    finish_error(item, attempt, first, err)
                    continue
                on_done(item, Outcome(pred, score, latency, attempt))
            if policy.timeout:
                now = time.monotonic()
                for ref, (item, attempt, submitted, first) in list(inflight.items()):
                    if now - submitted > policy.timeout:
                        inflight.pop(ref)
                        ray.cancel(ref, force=True)
                        finish_error(item, attempt, first, TimeoutError(f"item took over {policy.timeout:g} s"))


def make_backend(name: str, concurrency: int = 4, **options: Any) -> LocalBackend | RayBackend:
    """The backend called ``name`` (``local`` or ``ray``)."""
    if name == "local":
        return LocalBackend(concurrency)
    if name == "ray":
        return RayBackend(concurrency, **options)
    raise ConfigError(f"backend: {name!r} is not a backend; use 'local' or 'ray'")
