"""The engine: local runs, duplicate keys merging, follow-up jobs, a dying worker retried."""
import os

from minas.core.engine import Engine, Job


def square(x):
    return x * x


def die_once(flag_path):
    """Kill this worker process the first time; succeed when retried."""
    if not os.path.exists(flag_path):
        open(flag_path, "w").close()
        os._exit(1)
    return "survived"


def test_in_process_runs_and_follows():
    jobs = [Job(f"sq{i}", square, (i,)) for i in range(3)]
    seen = []

    def follow(job, result):
        return [Job(f"sq{result}", square, (result,))] if result == 4 else []

    with Engine(workers=0, progress=False) as eng:
        for job, result in eng.run(jobs, follow=follow):
            seen.append((job.key, result))
    assert dict(seen) == {"sq0": 0, "sq1": 1, "sq2": 4, "sq4": 16}


def test_dask_cluster_merges_duplicates_and_retries_dead_worker(tmp_path):
    flag = str(tmp_path / "died")
    jobs = [Job("same", square, (3,)), Job("same", square, (3,)), Job("die", die_once, (flag,))]
    with Engine(workers=2, progress=False) as eng:
        assert eng.n_slots == 2
        out = [(j.key, r) for j, r in eng.run(jobs)]
    assert sorted(out) == [("die", "survived"), ("same", 9), ("same", 9)]
    assert os.path.exists(flag)


def test_worker_environment_has_no_malloc_trim(tmp_path):
    with Engine(workers=1, progress=False) as eng:
        eng.start()
        env = eng.client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert list(env.values()) == [None]


def test_no_cluster_is_started_without_work():
    with Engine(workers=2, progress=False) as eng:
        assert list(eng.run([])) == []
        assert eng.client is None
