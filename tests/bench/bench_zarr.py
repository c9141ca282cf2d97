"""Benchmark: Zarr <-> .isxd conversion throughput, as ratios against baselines measured in the same run.

Prints, for a lazily generated uint16 calcium-imaging movie of at least 1 GB
(512 x 512 frames; Zarr v3, Blosc zstd level 5 with bit shuffle, 16 MiB chunks):

1. ``zarr_to_isxd`` vs only reading and decompressing the same Zarr with Dask
   (``da.store`` into a target that discards the chunks) (target >= 0.8), with
   Dask's default threads and with the writers' default (two threads per core),
   and vs writing the same frames from memory; alternating runs, each after
   ``os.sync`` and a pause, with the Zarr in the page cache (warm) and not
   (cold), medians;
2. ``isxd_to_zarr`` vs only reading the ``.isxd`` with Dask, and its throughput in MB/s
   of uncompressed frames, with the compression ratio; and vs Zarr's own ceiling,
   ``da.store`` of the same frames from memory into the same kind of Zarr array;
3. what writing alone costs: ``write_movie`` of the same frames from memory.

Both conversions run with the threaded scheduler and include the final fsync
of the ``.isxd`` file (``write_movie``'s default). Every timing is the best of
``--repeats`` runs, with files in the page cache (the machine has room for them).

Run: ``python tests/bench/bench_zarr.py [--dir DIR] [--gb 1] [--repeats 3]``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _baseline import alternate, remove, report  # noqa: E402

ROWS, COLS = 512, 512


class Discard:
    """A ``da.store`` target that drops every chunk (the cost of producing them only)."""

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape, self.dtype, self.ndim = shape, np.dtype(dtype), len(shape)

    def __setitem__(self, key: Any, value: np.ndarray) -> None:
        pass


def best_of(repeats: int, fn: Any, before: Any = None) -> float:
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="working directory (default: a new temporary one)")
    parser.add_argument("--gb", type=float, default=1.0, help="movie size in GB (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds of rest before every Zarr -> isxd run")
    parser.add_argument("--states", nargs="+", default=["warm", "cold"], choices=["cold", "warm"])
    args = parser.parse_args()

    import dask
    import dask.array as da
    import zarr

    import isx_dask as xd
    from isx_dask.convert import make_compressor
    from isx_dask.examples import synthetic_recording

    directory = tempfile.mkdtemp(prefix="bench_zarr_", dir=args.dir)
    num_frames = int(args.gb * 1e9 // (ROWS * COLS * 2)) + 1
    source_isxd = os.path.join(directory, "source.isxd")
    store = os.path.join(directory, "movie.zarr")
    out_isxd = os.path.join(directory, "back.isxd")
    try:
        with dask.config.set(scheduler="threads"):
            rec = synthetic_recording(num_frames, (ROWS, COLS), num_cells=80, seed=0, chunk_samples=32)
            start = time.perf_counter()
            xd.write_movie(rec.frames, source_isxd, timing=rec.timing, spacing=rec.spacing)
            nbytes = num_frames * ROWS * COLS * 2
            print(f"movie: {num_frames} x {ROWS} x {COLS} uint16 = {nbytes / 1e9:.2f} GB "
                  f"(synthesised and written in {time.perf_counter() - start:.1f} s); {os.cpu_count()} cores")

            # isxd -> Zarr, against only reading the isxd with Dask.
            t_read_isxd = best_of(args.repeats, lambda: da.store(xd.open_isxd(source_isxd).frames,
                                                                  Discard((num_frames, ROWS, COLS), np.uint16), lock=False))
            t_to_zarr = best_of(args.repeats, lambda: xd.isxd_to_zarr(source_isxd, store, overwrite=True))
            in_memory = xd.open_isxd(source_isxd).frames.persist()

            def zarr_from_memory() -> None:
                target = zarr.create_array(os.path.join(directory, "memory.zarr"), shape=in_memory.shape, dtype=in_memory.dtype,
                                           chunks=zarr.open_array(store, path="frames", mode="r").chunks,
                                           compressors=[make_compressor()], overwrite=True)
                da.store(in_memory, target, lock=False)

            t_memory_to_zarr = best_of(args.repeats, zarr_from_memory)
            del in_memory
            compressed = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(store) for f in files)
            print(f"isxd -> zarr: {t_to_zarr:.2f} s, {nbytes / 1e6 / t_to_zarr:.0f} MB/s "
                  f"(compression ratio {nbytes / compressed:.2f}); reading the isxd alone {t_read_isxd:.2f} s "
                  f"({nbytes / 1e6 / t_read_isxd:.0f} MB/s): ratio {t_read_isxd / t_to_zarr:.2f}")
            print(f"  Zarr's own ceiling: storing the same frames from memory into the same Zarr array takes "
                  f"{t_memory_to_zarr:.2f} s ({nbytes / 1e6 / t_memory_to_zarr:.0f} MB/s): isxd_to_zarr reaches "
                  f"{t_memory_to_zarr / t_to_zarr:.2f} of it")

            # Zarr -> isxd, against only reading and decompressing the Zarr with Dask: alternating runs,
            # each after the same preparation (os.sync, so no earlier write is still being flushed, and a
            # pause; for "cold" the page cache is dropped too), medians.
            frames = da.from_zarr(store, component="frames")
            threads = 2 * (os.cpu_count() or 1)
            in_memory = xd.open_isxd(source_isxd).frames.persist()
            methods = {
                "reading alone": lambda: da.store(frames, Discard(frames.shape, frames.dtype), lock=False),
                f"reading alone, {threads} threads": lambda: da.store(frames, Discard(frames.shape, frames.dtype), lock=False,
                                                                      num_workers=threads),
                "zarr_to_isxd": lambda: xd.zarr_to_isxd(store, out_isxd, overwrite=True),
                "zarr_to_isxd, fsync=False": lambda: xd.zarr_to_isxd(store, out_isxd, overwrite=True, fsync=False),
                "write_movie from memory": lambda: xd.write_movie(in_memory, out_isxd, overwrite=True),
            }
            for state in args.states:
                times = alternate(methods, args.repeats, state, args.pause, lambda: remove(out_isxd), [store, out_isxd])
                report(f"zarr -> isxd [{state}], {args.repeats} alternating runs each, pause {args.pause} s, page cache "
                       f"{'dropped' if state == 'cold' else 'kept'} before each", nbytes, times, "reading alone",
                       {"zarr_to_isxd": 0.8})
                med = {k: statistics.median(v) for k, v in times.items()}
                print(f"    zarr_to_isxd vs reading alone with the same {threads} threads: "
                      f"{med[f'reading alone, {threads} threads'] / med['zarr_to_isxd']:.2f}; vs writing the same frames from "
                      f"memory: {med['write_movie from memory'] / med['zarr_to_isxd']:.2f}; the bound of a perfect overlap of "
                      f"reading and writing: {med['reading alone'] / max(med['reading alone'], med['write_movie from memory']):.2f}")
            del in_memory
            xd.zarr_to_isxd(store, out_isxd, overwrite=True)

            same = open(source_isxd, "rb").read(nbytes) == open(out_isxd, "rb").read(nbytes)
            print(f"round trip data section byte-identical: {same}")
            chunks = zarr.open_array(store, path="frames", mode="r").chunks
            print(f"zarr chunks {chunks}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
