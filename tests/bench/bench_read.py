"""Benchmark: the lazy reader against ``numpy.fromfile`` of the same bytes, measured in the same run.

Prints, for a movie of 1280x800 uint16 frames (1 GB by default) written by ``write_movie``:
the median time of reading every frame through ``open_isxd(path).frames`` (Dask, threads,
each chunk handed to a target that drops it) and of ``numpy.fromfile`` of the same data
section, alternating, each after the same pause, in a cold state (page cache dropped) and a
warm one (file cached); target: the reader >= 0.9x ``numpy.fromfile``.

Run: ``python tests/bench/bench_read.py [--dir DIR] [--gb 1] [--repeats 3]``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _baseline import alternate, report  # noqa: E402

ROWS, COLS = 800, 1280


class Discard:
    """A ``dask.array.store`` target that drops every chunk."""

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape, self.dtype, self.ndim = shape, np.dtype(dtype), len(shape)

    def __setitem__(self, key: Any, value: np.ndarray) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temp dir under the cwd)")
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--states", nargs="+", default=["cold", "warm"], choices=["cold", "warm"])
    args = parser.parse_args()

    import dask.array as da

    import isx_dask as xd

    directory = args.dir or tempfile.mkdtemp(prefix="bench_read_", dir=os.getcwd())
    n = int(args.gb * 1e9 // (ROWS * COLS * 2)) + 1
    path = os.path.join(directory, "read.isxd")
    frames = da.random.default_rng(0).integers(0, 4096, size=(n, ROWS, COLS), dtype=np.uint16, chunks=(32, ROWS, COLS))
    xd.write_movie(frames, path, timing=xd.Timing(n), spacing=xd.Spacing(num_pixels=(ROWS, COLS)), overwrite=True)
    nbytes = n * ROWS * COLS * 2
    try:
        lazy = xd.open_isxd(path).frames
        assert np.array_equal(lazy[-1].compute(), np.fromfile(path, "<u2", count=ROWS * COLS, offset=nbytes - ROWS * COLS * 2).reshape(ROWS, COLS))
        methods = {
            "numpy.fromfile": lambda: np.fromfile(path, "<u2", count=n * ROWS * COLS),
            "open_isxd(...).frames (threads)": lambda: da.store(
                xd.open_isxd(path).frames, Discard((n, ROWS, COLS), np.uint16), lock=False, scheduler="threads"
            ),
        }
        for state in args.states:
            times = alternate(methods, args.repeats, state, args.pause, lambda: None, [path])
            title = (f"[{state}] reading {n} frames {ROWS}x{COLS} uint16 = {nbytes / 1e9:.2f} GB (chunks of "
                     f"{lazy.chunks[0][0]} frames), {args.repeats} alternating runs each, page cache "
                     f"{'dropped' if state == 'cold' else 'kept'} before each")
            report(title, nbytes, times, "numpy.fromfile", {"open_isxd(...).frames (threads)": 0.9})
    finally:
        os.unlink(path)
        if args.dir is None:
            os.rmdir(directory)


if __name__ == "__main__":
    main()
