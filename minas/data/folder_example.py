"""A small example tree for the `folder` family, written from scikit-learn's 8x8 digits (Alpaydin & Kaynak 1998).

`python -m minas.data.folder_example DIR` writes DIR/<task>/<class>/<n>.png for seven tasks in five sources
(sources.csv), one of them colour (JPEG) and one with its own train/ and test/ folders, so that
`python -m minas run --profile params/folder_example.yaml --set data.root=DIR` runs the series on it
(docs/data.md, "Your own data sets"; tests/data/test_folder.py).
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

PER_CLASS = 40  # images written per class (the example stays small: ~2,500 files)
# task -> (source, label map y -> class name or None to drop, image map)
TASKS = {
    "digits": ("digits", lambda y: f"d{y}", lambda x: x),
    "digits-0to4": ("digits", lambda y: f"d{y}" if y < 5 else None, lambda x: x),
    "digits-parity": ("digits-coarse", lambda y: ("even", "odd")[y % 2], lambda x: x),
    "digits-mod3": ("digits-coarse", lambda y: f"r{y % 3}", lambda x: x),
    "digits-colour": ("digits-colour", lambda y: f"d{y}", None),  # RGB: ink tinted per image
    "digits-inverted": ("digits-inverted", lambda y: f"d{y}", lambda x: 255 - x),
    "digits-rot90": ("digits-rot", lambda y: f"d{y}", lambda x: np.rot90(x)),  # written as train/ and test/
}


def write_example_tree(root: str | Path, per_class: int = PER_CLASS, seed: int = 0) -> Path:
    """Write the example tree under root (created) and return root."""
    from PIL import Image
    from sklearn.datasets import load_digits

    root = Path(root)
    d = load_digits()
    images = np.round(d.images * (255 / 16)).astype(np.uint8)
    rng = np.random.default_rng(seed)
    for task, (source, label, transform) in TASKS.items():
        counts: dict[str, int] = {}
        for i in rng.permutation(len(images)):
            cls = label(int(d.target[i]))
            if cls is None or counts.get(cls, 0) >= per_class:
                continue
            n = counts[cls] = counts.get(cls, 0) + 1
            part = ("train" if n <= per_class * 0.7 else "test") if task == "digits-rot90" else ""
            folder = root / task / part / cls
            folder.mkdir(parents=True, exist_ok=True)
            if transform is None:
                tint = rng.uniform(0.3, 1.0, 3)
                rgb = (images[i][..., None] * tint).round().astype(np.uint8)
                Image.fromarray(rgb, "RGB").save(folder / f"{n:03d}.jpg", quality=95)
            else:
                Image.fromarray(np.ascontiguousarray(transform(images[i])), "L").save(folder / f"{n:03d}.png")
    with (root / "sources.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["task", "source"])
        out.writerows((task, spec[0]) for task, spec in TASKS.items())
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="folder to write the tree into (e.g. ~/.cache/minas/folder-example)")
    parser.add_argument("--per-class", type=int, default=PER_CLASS)
    args = parser.parse_args()
    print(f"wrote {write_example_tree(Path(args.root).expanduser(), args.per_class)}")
