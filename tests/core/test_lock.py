"""The per-folder lock (minas.core.lock): one run at a time, a dead holder's lock taken over."""
import os
import signal
import time

import pytest

from minas.core import lock


def test_second_holder_is_refused_with_the_holders_name_and_a_dead_holder_is_taken_over(tmp_path, hold_lock):
    proc = hold_lock(tmp_path)
    t0 = time.perf_counter()
    with pytest.raises(lock.StoreLocked, match=rf"pid {proc.pid} on .*command: holder-for-test"):
        lock.acquire(tmp_path)
    assert time.perf_counter() - t0 < 1.0  # at once, no waiting
    assert lock.holder(tmp_path)["pid"] == proc.pid
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with lock.acquire(tmp_path, command="me") as held:  # the killed holder's lock is stale: taken over
        assert held.stale["pid"] == proc.pid and held.stale["command"] == "holder-for-test"
        assert lock.holder(tmp_path)["command"] == "me"
    assert lock.holder(tmp_path) is None
    assert (tmp_path / lock.LOCK_NAME).read_text() == ""  # a clean release leaves no holder behind
    with lock.acquire(tmp_path) as again:
        assert again.stale is None


def test_lock_is_per_folder_and_refuses_a_second_acquire_in_the_same_process(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    with lock.acquire(a), lock.acquire(b):
        with pytest.raises(lock.StoreLocked, match=f"pid {os.getpid()}"):
            lock.acquire(a)
    lock.acquire(a).release()
