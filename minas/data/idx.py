"""The IDX file format of the MNIST family: a checked reader for uint8 IDX files, optionally gzipped.

Source: LeCun et al. 1998, the format as described at http://yann.lecun.com/exdb/mnist/
(big-endian magic 0x0000TTNN with type TT = 0x08 for uint8 and NN dimensions, then NN
big-endian int32 sizes, then the data); used by MNIST, Fashion-MNIST, KMNIST and EMNIST.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from minas.data.task import DataError

IDX_IMAGES, IDX_LABELS = 0x00000803, 0x00000801  # IDX magic numbers: uint8 3-d / 1-d


def read_idx(path: str | Path, magic: int) -> np.ndarray:
    """Read an IDX file (optionally .gz) holding uint8 data; check magic number and length."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read ({err}); the file is missing or truncated, fetch it again") from err
    found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if found != magic:
        raise DataError(f"{path}: bad IDX magic number {found if found is None else hex(found)}, "
                        f"expected {magic:#010x}; the file is corrupt or not an IDX file")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    start = 4 + 4 * ndim
    if len(raw) != start + int(np.prod(dims)):
        raise DataError(f"{path}: truncated or padded IDX file: header says {dims} "
                        f"({start + int(np.prod(dims))} bytes), file has {len(raw)} bytes; fetch it again")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(dims)


def idx_files(folder: Path, prefixes: tuple[str, str]) -> list[tuple[Path, int]]:
    """The 4 IDX files (train/test images/labels) of an MNIST-like set, with their magic numbers."""
    return [(folder / f"{p}-{kind}-ubyte", magic) for p in prefixes
            for kind, magic in (("images-idx3", IDX_IMAGES), ("labels-idx1", IDX_LABELS))]
