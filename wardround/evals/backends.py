"""Execution backends: run items with bounded concurrency, a per-item timeout and retries of transient errors.

- ``local``: an asyncio loop; async solvers are awaited, sync solvers run in a thread pool of ``concurrency``
  workers; retries via tenacity (exponential backoff with jitter).
- ``ray``: items go as batches of Ray tasks on whatever cluster ``ray.init`` reaches (``address=None`` starts a
  local one); at most ``concurrency`` tasks are in flight; batches shrink to one item as the run ends; a task
  over the timeout is cancelled; transient errors are resubmitted with the same backoff. Ray is an optional
  extra (``pip install 'wardround[ray]'``) imported only here, lazily.

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


def _ray_execute(solver_scorer: tuple[Solver, Scorer], items: list[EvalItem]) -> list[tuple[str, Any]]:
    """The Ray task body: solve and score a batch of items in a worker, one after the other.

    Each item's outcome is returned on its own (``("ok", (prediction, score, seconds))`` or ``("error", exc)``),
    so one failing item neither loses the batch's other results nor hides which item failed.
    """
    solver, scorer = solver_scorer
    out: list[tuple[str, Any]] = []
    for item in items:
        try:
            pred, score, latency = execute(solver, scorer, item)
        except Exception as exc:  # noqa: BLE001 - reported per item, retried or recorded by the driver
            out.append(("error", exc))
            continue
        out.append(("ok", (pred.model_copy(update={"raw": None}), score, latency)))
    return out


#: Seconds a Ray task may wait for a worker before its own time counts: the clock starts at submission, and
#: starting a worker process (after a cancelled task killed one) takes seconds on a busy machine.
RAY_START_GRACE = 5.0

#: Most items one Ray task carries. A task costs a few milliseconds of scheduling and serialisation whatever it
#: does; batching spreads that over many fast items, while the guided size (remaining items / (4 x concurrency))
#: shrinks to one item per task towards the end, so no worker is left holding a long batch while others idle.
MAX_BATCH = 256


def batch_size(remaining: int, concurrency: int, cap: int = MAX_BATCH) -> int:
    """Items in the next Ray task: a quarter of each worker's fair share of what is left, 1 to ``cap``."""
    return max(1, min(cap, remaining // (4 * max(1, concurrency))))


class RayBackend:
    """Items as Ray tasks (``num_cpus`` each) with at most ``concurrency`` tasks in flight, each carrying a batch
    of items (``batch_size``): per-item overhead stays below a millisecond for fast solvers, and slow solvers
    get one item per task as the run nears its end."""

    name = "ray"

    def __init__(self, concurrency: int = 4, address: str | None = None, num_cpus: float = 1.0,
                 init_kwargs: dict[str, Any] | None = None, max_batch: int = MAX_BATCH) -> None:
        self.concurrency = max(1, int(concurrency))
        self.address = address
        self.num_cpus = num_cpus
        self.init_kwargs = init_kwargs or {}
        self.max_batch = max(1, int(max_batch))

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
        """Submit batches, collect as they finish, resubmit transient failures, cancel batches over the timeout.

        A batch's timeout is the per-item timeout times its size (plus ``RAY_START_GRACE`` for a worker to
        start); a batch over it is cancelled and its items go back one per task, so the item that hangs is the
        one recorded as timed out.
        """
        ray = self._ray()
        remote = ray.remote(num_cpus=self.num_cpus, max_retries=0)(_ray_execute)
        shared = ray.put((solver, scorer))
        # (not before, item, attempt, first submitted, alone): "alone" items go one per task
        queue: list[tuple[float, EvalItem, int, float, bool]] = [(0.0, it, 1, 0.0, False) for it in reversed(items)]
        inflight: dict[Any, tuple[list[tuple[EvalItem, int, float]], float]] = {}  # ref -> (batch, submitted)

        def finish_error(item: EvalItem, attempt: int, first: float, exc: BaseException) -> None:
            if attempt <= policy.retries and is_retryable(exc):
                log.info("item %s: %s on attempt %d; retrying", item.id, describe(exc), attempt)
                queue.append((time.monotonic() + policy.wait(attempt), item, attempt + 1, first, True))
                return
            on_done(item, Outcome(None, None, time.monotonic() - first, attempt, describe(exc)))

        def take(now: float) -> list[tuple[EvalItem, int, float]]:
            size = batch_size(len(queue) + sum(len(b) for b, _ in inflight.values()), self.concurrency,
                              self.max_batch)
            batch: list[tuple[EvalItem, int, float]] = []
            i = len(queue) - 1
            while i >= 0 and len(batch) < size:
                ready_at, item, attempt, first, alone = queue[i]
                if ready_at <= now and (not alone or not batch):
                    queue.pop(i)
                    batch.append((item, attempt, first or now))
                    if alone:
                        break
                i -= 1
            return batch

        while queue or inflight:
            now = time.monotonic()
            while len(inflight) < self.concurrency:
                batch = take(now)
                if not batch:
                    break
                inflight[remote.remote(shared, [b[0] for b in batch])] = (batch, now)
            if not inflight:
                time.sleep(min(0.05, max(0.0, min(q[0] for q in queue) - now)))
                continue
            ready, _ = ray.wait(list(inflight), num_returns=1, timeout=0.05)
            for ref in ready:
                batch, _submitted = inflight.pop(ref)
                try:
                    results = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - a lost worker: every item of the batch is affected
                    cause = getattr(exc, "cause", None)
                    err = cause if isinstance(cause, BaseException) else exc
                    if isinstance(err, ConfigError):
                        raise err from None
                    for item, attempt, first in batch:
                        finish_error(item, attempt, first, err)
                    continue
                for (item, attempt, first), (status, value) in zip(batch, results, strict=True):
                    if status == "ok":
                        pred, score, latency = value
                        on_done(item, Outcome(pred, score, latency, attempt))
                        continue
                    if isinstance(value, ConfigError):
                        raise value
                    finish_error(item, attempt, first, value)
            if policy.timeout:
                now = time.monotonic()
                for ref, (batch, submitted) in list(inflight.items()):
                    if now - submitted <= policy.timeout * len(batch) + RAY_START_GRACE:
                        continue
                    inflight.pop(ref)
                    ray.cancel(ref, force=True)
                    if len(batch) == 1:
                        item, attempt, first = batch[0]
                        finish_error(item, attempt, first, TimeoutError(f"item took over {policy.timeout:g} s"))
                    else:  # which item hangs is not known: each goes again on its own, same attempt
                        queue.extend((0.0, item, attempt, first, True) for item, attempt, first in batch)


def make_backend(name: str, concurrency: int = 4, **options: Any) -> LocalBackend | RayBackend:
    """The backend called ``name`` (``local`` or ``ray``)."""
    if name == "local":
        return LocalBackend(concurrency)
    if name == "ray":
        return RayBackend(concurrency, **options)
    raise ConfigError(f"backend: {name!r} is not a backend; use 'local' or 'ray'")
