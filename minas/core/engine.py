"""Running the study's jobs: in this process, on a local Dask cluster, or on a real one.

docs/ARCHITECTURE.md (engine): Dask distributed, `LocalCluster(processes=True, threads_per_worker=1)` by
default; a scheduler address from params for a cluster. Jobs are pure functions with
deterministic keys, so identical jobs in flight merge; workers return results and only the
driver writes the store. Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536, which was measured
to double small-CNN training time, so the engine unsets it for its workers.

On a node with several GPUs a local cluster pins one worker to each (CUDA_VISIBLE_DEVICES set per worker by its
nanny, the way dask-cuda's LocalCUDACluster does; `visible_gpus`), so `cuda` in worker i is GPU i rather than
GPU 0 for all. A cluster minas connects to (engine.scheduler) is started by whoever runs it: docs/cost.md's section
"GPU and Dask clusters" gives the recipe (one worker per GPU, one thread, MALLOC_TRIM_THRESHOLD_ unset), and
`worker_problems` names any worker that departs from it.

Nothing a local cluster opens listens beyond this machine: its scheduler, nannies, workers and dashboard bind
127.0.0.1 (`LOOPBACK`; the dashboard runs only where bokeh is installed, and `dashboard_link` names it). A cluster
reached over `tls://` (engine.scheduler) takes Dask's own security settings from its config
(distributed.comm.tls.ca-file, .client.cert, .client.key; docs/cost.md, "GPU and Dask clusters"); nothing here reads them.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

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


def visible_gpus(device: str = "auto") -> list[str]:
    """The CUDA devices this process sees, as CUDA_VISIBLE_DEVICES names them (their indices when it is unset);
    none when `device` is cpu or no GPU is present."""
    if device == "cpu":
        return []
    import torch

    n = torch.cuda.device_count()
    named = [d.strip() for d in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    return (named or [str(i) for i in range(n)])[:n]


def _worker_environ() -> dict[str, str | None]:
    """What a worker's environment says about the settings the recipe in docs/cost.md asks for (run on every worker)."""
    return {k: os.environ.get(k) for k in ("CUDA_VISIBLE_DEVICES", "MALLOC_TRIM_THRESHOLD_")}


def worker_problems(environs: dict[str, dict]) -> list[str]:
    """Departures from the worker recipe in docs/cost.md, from `_worker_environ` per worker address: MALLOC_TRIM_THRESHOLD_
    set (measured to double training time), or several workers pinned to one GPU."""
    out = [f"worker {w} has MALLOC_TRIM_THRESHOLD_={e['MALLOC_TRIM_THRESHOLD_']} (measured to double small-CNN training "
           "time): start workers with scripts/gpu_workers.sh, or DASK_CONFIG=scripts/dask"
           for w, e in sorted(environs.items()) if e.get("MALLOC_TRIM_THRESHOLD_") is not None]
    pinned: dict[str, list[str]] = {}
    for w, e in environs.items():
        if e.get("CUDA_VISIBLE_DEVICES"):
            pinned.setdefault(e["CUDA_VISIBLE_DEVICES"], []).append(w)
    out += [f"workers {', '.join(sorted(ws))} all see CUDA_VISIBLE_DEVICES={gpu}: pin one worker per GPU"
            for gpu, ws in sorted(pinned.items()) if len(ws) > 1]
    return out


def _pinned_cluster(gpus: Sequence[str], **options):
    """A LocalCluster with one worker per GPU in `gpus`, worker i's nanny setting CUDA_VISIBLE_DEVICES=gpus[i]
    (a worker that dies is restarted on its own GPU)."""
    from distributed import LocalCluster

    class PinnedCluster(LocalCluster):
        def new_worker_spec(self) -> dict:
            taken = {spec["options"].get("env", {}).get("CUDA_VISIBLE_DEVICES") for spec in self.worker_spec.values()}
            gpu = next(g for g in gpus if g not in taken)
            options = {**self.new_spec["options"], "env": {"CUDA_VISIBLE_DEVICES": gpu}}
            return {f"gpu{gpu}": {"cls": self.new_spec["cls"], "options": options}}

    cluster = PinnedCluster(n_workers=0, **options)
    cluster.scale(len(gpus))
    return cluster


LOOPBACK = "127.0.0.1"


def local_options() -> dict:
    """LocalCluster settings of a local run: one thread per worker process, everything on loopback (LOOPBACK)."""
    return dict(threads_per_worker=1, processes=True, host=LOOPBACK, dashboard_address=f"{LOOPBACK}:0",
                memory_limit=0, silence_logs=40)


class Engine:
    """Context manager that runs Jobs and yields (job, result) as they finish.

    `workers=0` runs jobs one by one in this process (no Dask), useful in tests and on a GPU. `gpus` (device
    names as CUDA_VISIBLE_DEVICES takes them, or a count n for 0..n-1) makes the local cluster one worker per GPU,
    each seeing only its own; `from_config` passes every GPU visible here when there are several.
    """

    def __init__(self, workers: int = 2, scheduler: str = "", progress: bool = True, gpus: Sequence[str] | int = ()):
        self.workers, self.scheduler, self.progress = workers, scheduler, progress
        self.gpus = [str(i) for i in range(gpus)] if isinstance(gpus, int) else [str(g) for g in gpus]
        self.client = None
        self._cluster = None

    @classmethod
    def from_config(cls, cfg, progress: bool = True) -> "Engine":
        local = cfg.engine.workers > 0 and not cfg.engine.scheduler
        gpus = visible_gpus(cfg.device) if local else []
        return cls(cfg.engine.workers, cfg.engine.scheduler, progress, gpus if len(gpus) > 1 else ())

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
            options = local_options()
            if self.scheduler:
                self.client = Client(self.scheduler)
                for problem in self.worker_problems():  # the workers connected so far
                    warnings.warn(f"{problem} (docs/cost.md, 'GPU and Dask clusters')", stacklevel=2)
            elif self.gpus:
                self._cluster = _pinned_cluster(self.gpus, **options)
                self.client = Client(self._cluster)
                self.client.wait_for_workers(len(self.gpus))
            else:
                self._cluster = LocalCluster(n_workers=self.workers, **options)
                self.client = Client(self._cluster)
            if self.dashboard_link and self.progress:
                print(f"[minas] Dask dashboard (this machine only): {self.dashboard_link}")

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        self.client = self._cluster = None

    @property
    def dashboard_link(self) -> str | None:
        """The local cluster's dashboard address (loopback), or None when none runs (no bokeh, no cluster)."""
        if self._cluster is None or "dashboard" not in getattr(self._cluster.scheduler, "services", {}):
            return None
        return self._cluster.dashboard_link

    def worker_problems(self) -> list[str]:
        """Departures of the connected workers from the recipe in docs/cost.md (`worker_problems`); [] without a cluster."""
        self.start()
        return [] if self.client is None else worker_problems(self.client.run(_worker_environ))

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

