"""probe and ba on 600 rows of synthetic activations shaped like a 60-60-60-60 network at 16 px: seconds and values (README)."""
import time, torch, json, sys, os
from minas.mi import probe, estimate
def acts_of(seed, n=600, k=10):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % k
    out = []
    for i, s in enumerate([(60, 16, 16), (60, 8, 8), (60, 4, 4), (60, 4, 4)]):
        d = s[0] * s[1] * s[2]
        means = torch.randn(k, d, generator=g) * (0.05 * (i + 1))
        out.append((means[y] + torch.randn(n, d, generator=g)).reshape(n, *s).relu())
    return out, y
acts, y = acts_of(0)
opts = dict(max_rows=600, batch_size=256, min_epochs=18, head_min_epochs=4, max_epochs=40)
probe.probe_accuracy([a[:50] for a in acts], y[:50], steps=2)  # warm-up: first optimizer step imports
t = time.perf_counter(); p = probe.probe_accuracy(acts, y, seed=1); tp = time.perf_counter() - t
t = time.perf_counter(); r = estimate.estimate_layers(acts, y, method="ba", seed=1, **opts); tb = time.perf_counter() - t
print(json.dumps({"src": os.environ["PYTHONPATH"].split("/")[-1], "probe_s": round(tp, 2), "ba_s": round(tb, 2),
                  "load": round(os.getloadavg()[0], 1), "ba": [x.value for x in r], "epochs": [x.epochs for x in r], "probe": p}), flush=True)
