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


def _listening(pids) -> list[tuple[int, str, int]]:
    """(pid, address, port) of every TCP socket in LISTEN state that the processes hold."""
    import psutil

    out = []
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        out += [(pid, c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN]
    return out


def test_a_local_cluster_listens_on_loopback_only():
    import psutil

    from minas.core.engine import LOOPBACK, local_options

    assert local_options()["host"] == LOOPBACK and local_options()["dashboard_address"].startswith(f"{LOOPBACK}:")
    me = psutil.Process()
    before = {port for _, _, port in _listening([me.pid])}
    with Engine(workers=2, progress=False) as eng:
        assert [r for _, r in eng.run([Job("sq", square, (4,))])] == [16]
        pids = [me.pid] + [p.pid for p in me.children(recursive=True)]
        sockets = [s for s in _listening(pids) if not (s[0] == me.pid and s[2] in before)]
        workers = eng.client.scheduler_info()["workers"]
    assert len(sockets) >= 1 + 2 * 2  # the scheduler, and a nanny and a worker per worker process
    assert {ip for _, ip, _ in sockets} == {LOOPBACK}, sockets
    assert all(addr.startswith(f"tcp://{LOOPBACK}:") for addr in workers)


def _self_signed(folder: Path) -> tuple[str, str]:
    """(cert, key) of a throwaway self-signed certificate for 127.0.0.1 (openssl)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return str(cert), str(key)


def test_a_tls_scheduler_runs_jobs_with_dasks_own_security_settings(tmp_path):
    """engine.scheduler = tls://...: the client takes its certificate from Dask's config (docs/cost.md), nothing else;
    a job and the smoke collection of one task run through it."""
    import shutil

    import dask
    import pytest
    from distributed import LocalCluster
    from distributed.security import Security

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate to test TLS with")
    cert, key = _self_signed(tmp_path)
    tls = {"distributed.comm.tls.ca-file": cert, "distributed.comm.tls.client.cert": cert,
           "distributed.comm.tls.client.key": key, "distributed.comm.require-encryption": True}
    server = Security(tls_ca_file=cert, tls_scheduler_cert=cert, tls_scheduler_key=key, tls_worker_cert=cert,
                      tls_worker_key=key, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tls://", host="127.0.0.1",
                      security=server, dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        with dask.config.set(tls):
            with Engine(workers=0, scheduler=address, progress=False) as eng:
                assert [r for _, r in eng.run([Job("sq", square, (5,))])] == [25]
                _smoke_collection_runs(eng, tmp_path)
        with dask.config.set({"distributed.comm.timeouts.connect": "3s"}):
            with pytest.raises(Exception):  # without the certificate the scheduler refuses the client
                Engine(workers=0, scheduler=address, progress=False).start()


def _smoke_collection_runs(eng, tmp_path):
    """The smoke collection of one task through the engine's scheduler: trainings, signals and posteriors stored."""
    import numpy as np

    from minas.core import config
    from minas.core.store import Store
    from minas.study import collection

    cfg = config.load("smoke", output_dir=str(tmp_path / "out"), **{"data.tasks": ["digits8", "mnist-parity"],
                      "collection.n_train_samples": 2, "collection.n_test_samples": 2, "mi.n_standardize": 2})
    store = Store(cfg.out / "store.sqlite")
    done = collection.collect(cfg, store, eng, tasks=["digits8"])
    assert done.input_jobs > 0 and store.count("trainings") > 0
    col = collection.load_collected(cfg, store, tasks=["digits8"])
    assert col.posteriors["digits8"].shape == (2, 4, 23) and np.allclose(col.posteriors["digits8"].sum(axis=-1), 1.0)
