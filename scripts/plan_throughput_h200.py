"""A `minas plan` throughput file from the committed H200 measurements of 2026-11-30.

Training: images/s of benchmarks/train_throughput.py for 20, 60 and 120 filters (fashion, 28 px, batch 256).
MI: mi_speed.txt's seconds for the 4 layers of one network at 600 rows (ba), and the thesis MINE's ratio to it;
the other label-head estimators are priced at ba's rate, the probe and the proxies at a CPU calibration's rates
(unmeasured on the GPU; both upper bounds there).
Usage: PYTHONPATH=. python scripts/plan_throughput_h200.py CPU_THROUGHPUT.json OUT.json
  (CPU_THROUGHPUT.json from `python -m minas plan --profile full --save-throughput CPU_THROUGHPUT.json`)
"""
import json
import re
import sys

from minas.nas import cnn
from minas.nas.space import Architecture
from minas.cost.throughput import Throughput
h = "docs/measurements/h200-2026-11-30/"
cpu = json.load(open(sys.argv[1]))  # this CPU's calibration: probe and proxies, unmeasured on the GPU
points = []
for line in open(h + "throughput.txt"):
    m = re.match(r"^(small|middle|large)\s+(\d+)-\S+\s+(\d+)", line)
    if m:
        w = int(m.group(2))
        points.append([cnn.flops_per_image(Architecture((w,) * 4), 1, 28), 1 / float(m.group(3))])
text = open(h + "mi_speed.txt").read()
ba = float(re.search(r"seconds, 4 layers of one network\s+([\d.]+)", text).group(1)) * 1000 / 600
mine = ba * float(re.search(r"thesis MINE seconds / ours\s+([\d.]+)", text).group(1))
mi = {m: (mine if m == "mine" else ba) for m in ("mine", "mine_fast", "nwj", "infonce", "smile", "ba")}
mi.update({m: s for m, s in cpu["mi_seconds_per_1000"].items() if m not in mi})
Throughput("cuda (H200, 2026-11-30)", "fp32", sorted(points), mi).save(sys.argv[2])
