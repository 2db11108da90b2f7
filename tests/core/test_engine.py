"""The engine: local runs, duplicate keys merging, follow-up jobs, a dying worker retried, one worker per GPU."""
import os
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path

from minas.core.engine import Engine, Job, visible_gpus, worker_problems

ROOT = Path(__file__).resolve().parents[2]


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


def test_a_local_cluster_pins_one_worker_to_each_gpu(tmp_path):
    """Three fake GPUs: three workers, worker i sees only device i, also after it died and was restarted."""
    flag = str(tmp_path / "died")
    with Engine(workers=1, progress=False, gpus=3) as eng:
        assert eng.n_slots == 3
        assert sorted(eng.client.run(os.getenv, "CUDA_VISIBLE_DEVICES").values()) == ["0", "1", "2"]
        seen = {r for _, r in eng.run([Job(f"gpu{i}", os.getenv, ("CUDA_VISIBLE_DEVICES",)) for i in range(9)])}
        assert seen <= {"0", "1", "2"}
        assert [r for _, r in eng.run([Job("die", die_once, (flag,))])] == ["survived"]
        eng.client.wait_for_workers(3)
        env = eng.client.run(os.getenv, "CUDA_VISIBLE_DEVICES")
        assert sorted(env.values()) == ["0", "1", "2"]  # the restarted worker is back on its own GPU
        assert set(eng.client.run(os.getenv, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
        assert eng.worker_problems() == []


def test_visible_gpus_follow_cuda_visible_devices(monkeypatch):
    import torch

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    n = torch.cuda.device_count()
    assert visible_gpus("cpu") == [] and visible_gpus("auto") == ["2", "5"][:n]


def test_worker_problems_name_the_recipe_departures():
    good = {"tcp://a:1": {"CUDA_VISIBLE_DEVICES": "0", "MALLOC_TRIM_THRESHOLD_": None},
            "tcp://a:2": {"CUDA_VISIBLE_DEVICES": "1", "MALLOC_TRIM_THRESHOLD_": None}}
    assert worker_problems(good) == []
    bad = {**good, "tcp://a:3": {"CUDA_VISIBLE_DEVICES": "1", "MALLOC_TRIM_THRESHOLD_": "65536"}}
    problems = worker_problems(bad)
    assert len(problems) == 2 and "tcp://a:3 has MALLOC_TRIM_THRESHOLD_=65536" in problems[0]
    assert "tcp://a:2, tcp://a:3 all see CUDA_VISIBLE_DEVICES=1" in problems[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_readme_recipe_starts_one_worker_per_gpu_with_minas_settings(tmp_path):
    """scripts/gpu_workers.sh against a real scheduler, two fake GPUs: the engine connects without a warning."""
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "MALLOC_TRIM_THRESHOLD_": ""}
    env.pop("MALLOC_TRIM_THRESHOLD_")
    address = f"tcp://127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen([os.path.join(bin_dir, "dask"), "scheduler", "--host", "127.0.0.1", "--port",
                               address.rsplit(":", 1)[1], "--dashboard-address", ":0"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    procs.append(subprocess.Popen(["bash", str(ROOT / "scripts" / "gpu_workers.sh"), address, "0,1"], env=env,
                                  start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a departure from the recipe would warn
            with Engine(scheduler=address, progress=False) as eng:
                eng.start()
                eng.client.wait_for_workers(2, timeout=120)
                assert eng.n_slots == 2
                env_seen = eng.client.run(os.getenv, "CUDA_VISIBLE_DEVICES")
                assert sorted(env_seen.values()) == ["0", "1"]
                assert set(eng.client.run(os.getenv, "MALLOC_TRIM_THRESHOLD_").values()) == {None}
                assert eng.worker_problems() == []
                assert [r for _, r in eng.run([Job("sq", pow, (5, 2))])] == [25]  # a builtin: these workers cannot import tests
    finally:
        for proc in reversed(procs):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=60)
