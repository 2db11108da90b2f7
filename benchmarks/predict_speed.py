"""Speed of the Table 3.1 predictor (per-sample loop vs batched) and of AutoBuild training.

Both MLP variants do the same math (Adam on the mean MSE of each mini-batch of 256 pairs);
the loop variant computes each pair's loss and gradient on its own and accumulates them,
the batched one (minas.study.predict.train_mlp) does one forward/backward per mini-batch.
Usage: python benchmarks/predict_speed.py [n_pairs] [epochs]
"""
import sys
import time

import numpy as np
import torch

from minas.study import autobuild, predict
from minas.study.predict import synthetic


def loop_epoch(model, opt, x, y, batch_size):
    for start in range(0, len(x), batch_size):
        opt.zero_grad()
        n = min(batch_size, len(x) - start)
        for i in range(start, start + n):
            (((model(x[i:i + 1]) - y[i:i + 1]) ** 2).mean() / n).backward()
        opt.step()


def main(n_pairs: int = 5000, epochs: int = 1) -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    pairs = predict.Pairs(rng.random((n_pairs, 96), dtype=np.float32), rng.random((n_pairs, 92), dtype=np.float32),
                          np.array(["t"] * n_pairs, dtype=object), np.zeros(n_pairs, int), np.zeros(n_pairs, int))
    torch.manual_seed(0)
    model = predict.PosteriorMLP()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.from_numpy(pairs.x), torch.from_numpy(pairs.y)
    t0 = time.perf_counter()
    for _ in range(epochs):
        loop_epoch(model, opt, x, y, 256)
    t_loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    predict.train_mlp(pairs, pairs, epochs=epochs, lr=1e-3, batch_size=256, seed=0)
    t_batch = time.perf_counter() - t0  # includes a full-data MSE evaluation per epoch
    print(f"MLP 96-128-128-64-92, {n_pairs} pairs x {epochs} epoch(s): per-sample loop {t_loop:.2f} s, "
          f"batched {t_batch:.3f} s, ratio {t_loop / t_batch:.0f}x")
    col = synthetic.synthetic_collected(n_train=20, n_test=1, n_samples=11)  # thesis-sized: 20 tasks x 11 instances
    rows = col.brackets[col.brackets.split == "train"]
    data = autobuild.chain_data(rows)
    t0 = time.perf_counter()
    autobuild.train_importance(data, epochs=200)
    print(f"AutoBuild importance model: {len(rows)} Hyperband rows, 200 full-batch steps: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
