"""Running the study's jobs: in this process, on a local Dask cluster, or on a real one.

docs/ARCHITECTURE.md (engine): Dask distributed, `LocalCluster(processes=True, threads_per_worker=1)` by
default; a scheduler address from params for a cluster. Jobs are pure functions with
deterministic keys, so identical jobs in flight merge; workers return results and only the
driver writes the store. Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536, which was measured
to double small-CNN training time, so the engine unsets it for its workers.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from minas.core.progress import bar as progress_bar


@dataclass
class Job:
    """One unit of work: `fn(*args)` run anywhere, identified by a deterministic key."""

    key: str
    fn: Callable
    args: tuple = ()
    meta: dict = field(default_factory=dict)  # driver-side bookkeeping, not sent to workers


def _worker_setup() -> None:
    import torch

    torch.set_num_threads(1)


def _call(fn: Callable, *args: Any) -> Any:
    # one torch thread for every job, in a worker or in this process: oneDNN's results can depend
    # on the thread count, and the study promises the same numbers whichever worker ran a job
    _worker_setup()
    return fn(*args)


class Engine:
    """Context manager that runs Jobs and yields (job, result) as they finish.

    `workers=0` runs jobs one by one in this process (no Dask), useful in tests and on a GPU.
    """

    def __init__(self, workers: int = 2, scheduler: str = "", progress: bool = True):
        self.workers, self.scheduler, self.progress = workers, scheduler, progress
        self.client = None
        self._cluster = None

    @classmethod
    def from_config(cls, cfg, progress: bool = True) -> "Engine":
        return cls(cfg.engine.workers, cfg.engine.scheduler, progress)

    def __enter__(self) -> "Engine":
        return self

    def start(self) -> None:
        """Connect to the scheduler or start the local cluster (done lazily by the first run with work)."""
        if self.client is None and (self.scheduler or self.workers > 0):
            import dask
            from distributed import Client, LocalCluster

            dask.config.set({
                "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                "distributed.worker.daemon": False,
                "distributed.scheduler.allowed-failures": 3,  # a dying worker's job is retried
                "distributed.logging.distributed": "error",
            })
            if self.scheduler:
                self.client = Client(self.scheduler)
            else:
                self._cluster = LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True,
                    dashboard_address=":0", memory_limit=0, silence_logs=40,
                )
                self.client = Client(self._cluster)

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        self.client = self._cluster = None

    @property
    def n_slots(self) -> int:
        """How many jobs can run at once."""
        self.start()
        if self.client is None:
            return 1
        return max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))

    def run(self, jobs: Iterable[Job], desc: str = "jobs", follow: Callable[[Job, Any], list[Job]] | None = None) -> Iterator[tuple[Job, Any]]:
        """Run jobs; yield (job, result) as each finishes.

        `follow(job, result)` may return new jobs to run (e.g. the next Hyperband rung).
        Jobs with a key already in flight are not submitted twice.
        """
        pending = list(jobs)
        bar = progress_bar(len(pending), desc, unit="job", disable=not self.progress)
        try:
            if pending:
                self.start()
            if self.client is None:
                while pending:
                    job = pending.pop(0)
                    result = _call(job.fn, *job.args)
                    bar.update(1)
                    yield job, result
                    new = follow(job, result) if follow else []
                    bar.total += len(new)
                    pending.extend(new)
                return
            yield from self._run_dask(pending, bar, follow)
        finally:
            bar.close()

    def _run_dask(self, pending: list[Job], bar, follow) -> Iterator[tuple[Job, Any]]:
        from distributed import as_completed

        waiting: dict[str, list[Job]] = {}  # key -> jobs waiting on that future
        ac = as_completed()

        def submit(job: Job) -> None:
            if job.key in waiting:
                waiting[job.key].append(job)
                return
            waiting[job.key] = [job]
            ac.add(self.client.submit(_call, job.fn, *job.args, key=job.key, pure=False))

        for job in pending:
            submit(job)
        for fut in ac:
            result = fut.result()
            fut.release()
            for job in waiting.pop(fut.key):
                bar.update(1)
                yield job, result
                for new in (follow(job, result) if follow else []):
                    bar.total += 1
                    submit(new)


def cpu_threads() -> int:
    """Cores available to this process."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
