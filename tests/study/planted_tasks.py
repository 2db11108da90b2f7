"""A hand-built collection whose posteriors move with a task-level quantity (tests of issue 31's controls).

Each task t prefers option centre_t = 4 + classes_t / 2 in every layer (classes 4..28); its posteriors are
Gaussian bumps around it with a jittered centre. The raw signal of each input sample is centre_t / 10 plus
within-task noise, so its task mean carries the preference while its within-task z-score carries none.
"""
import numpy as np
import pandas as pd

from minas.nas.space import N_LAYERS, N_OPTIONS, sample_architectures
from minas.study.collection import Collected, signal_columns


def task_level_collection(n_train: int = 8, n_test: int = 8, n_samples: int = 6, seed: int = 0) -> Collected:
    rng = np.random.default_rng(seed)
    i = np.arange(N_OPTIONS)
    samples, posts, tasks = [], {}, []
    raw_cols, z_cols = signal_columns("mine_fast"), signal_columns("mine_fast", standardized=True)
    for t in range(n_train + n_test):
        name, split = f"t{t:02d}", "train" if t < n_train else "test"
        classes = int(rng.integers(4, 29))
        centre = 4 + classes / 2
        jitter = rng.normal(0, 0.7, size=(n_samples, N_LAYERS, 1))
        bumps = np.exp(-0.5 * ((i - centre - jitter) / 2.0) ** 2)
        posts[name] = bumps / bumps.sum(axis=-1, keepdims=True)  # (n, L, 23)
        raw = centre / 10 + rng.normal(0, 0.05, size=(n_samples, N_LAYERS))
        z = (raw - raw.mean(axis=0)) / raw.std(axis=0)
        for s, arch in enumerate(sample_architectures(n_samples, rng)):
            samples.append({"task": name, "split": split, "source": name, "role": "input", "sample": s, "arch": arch.id,
                            "accuracy": float(rng.uniform(0.5, 0.9)), **dict(zip(raw_cols, raw[s])), **dict(zip(z_cols, z[s]))})
        tasks.append({"name": name, "family": "planted", "source": name, "classes": classes, "channels": 1, "size": 16,
                      "n_train": 600, "n_test": 100, "split": split})
    samples = pd.DataFrame(samples)
    return Collected(samples, posts, pd.DataFrame(), samples.drop(columns=z_cols), ["mine_fast"], pd.DataFrame(tasks))
