"""Benchmark: write_cell_set time and memory, as ratios against baselines measured in the same run.

Prints:
1. write_cell_set (Dask's default threads, and the writers' default of two per core) from
   in-memory arrays wrapped in Dask (500 cells of 400x640 footprints,
   36,000-sample traces: 0.58 GB) vs the O_DIRECT limit (``dask.array.store`` of the same bytes
   through an ``O_DIRECT`` target, target >= 0.9) and ``ndarray.tofile``; durable, alternating,
   cold and warm page cache, medians;
2. the official isx loop (``CellSet.set_cell_data`` per cell) over the same arrays, and the
   ratio (if the loop runs over its time budget, it is stopped and extrapolated linearly,
   and the output says so);
3. peak resident memory (VmHWM) of a child process writing a cell set whose footprints and
   traces are generated lazily, at two sizes, to show how it grows with the file: with trace
   chunks aligned with the footprint chunks, and not aligned.

Run: ``python tests/bench/bench_cell_set.py [--dir DIR]``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _baseline import PEAK_RSS, alternate, direct_store, remove, report, tofile_durable  # noqa: E402

ROWS, COLS, SAMPLES = 400, 640, 36_000


def _drop(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def make_cells(num_cells: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    footprints = rng.random((num_cells, ROWS, COLS), dtype=np.float32)
    traces = rng.standard_normal((num_cells, SAMPLES), dtype=np.float32)
    return footprints, traces


def bench_write(directory: str, footprints: np.ndarray, traces: np.ndarray, repeats: int, pause: float, states: list[str]) -> float:
    import dask.array as da

    import isx_dask as xd

    n = len(footprints)
    nbytes = footprints.nbytes + traces.nbytes
    fp = da.from_array(footprints, chunks=(16, ROWS, COLS))
    tr = da.from_array(traces, chunks=(100, SAMPLES))
    timing, spacing = xd.Timing(SAMPLES, xd.Duration(1, 20)), xd.Spacing(num_pixels=(ROWS, COLS))
    raw, tof, out = (os.path.join(directory, name) for name in ("direct.bin", "tofile.bin", "cells.isxd"))
    threads = 2 * (os.cpu_count() or 1)  # the writers' default: two threads per core
    methods = {
        "O_DIRECT dask.array.store (limit)": lambda: direct_store([fp, tr], raw, [0, footprints.nbytes]),
        f"same limit, {threads} threads": lambda: direct_store([fp, tr], raw, [0, footprints.nbytes], num_workers=threads),
        "write_cell_set, one thread per core": lambda: xd.write_cell_set(
            fp, tr, out, timing=timing, spacing=spacing, compute_kwargs={"scheduler": "threads", "num_workers": os.cpu_count()}
        ),
        f"write_cell_set, default {threads} threads": lambda: xd.write_cell_set(fp, tr, out, timing=timing, spacing=spacing),
        "ndarray.tofile + fsync": lambda: tofile_durable([footprints, traces], tof),
    }
    ours = 0.0
    for state in states:
        times = alternate(methods, repeats, state, pause, lambda: remove(raw, tof, out), [raw, tof, out])
        title = (f"[1:{state}] {n} cells, footprints {ROWS}x{COLS}, {SAMPLES} samples = {nbytes / 1e9:.2f} GB float32, "
                 f"{repeats} alternating runs each, pause {pause} s, page cache {'dropped' if state == 'cold' else 'kept'} before each")
        report(title, nbytes, times, "O_DIRECT dask.array.store (limit)",
               {"write_cell_set, one thread per core": 0.9, f"write_cell_set, default {threads} threads": 0.9})
        ours = statistics.median(times["write_cell_set, one thread per core"])
        limit_threads = statistics.median(times[f"same limit, {threads} threads"])
        default_med = statistics.median(times[f"write_cell_set, default {threads} threads"])
        print(f"    write_cell_set with its default {threads} threads vs the limit with {threads} threads: {limit_threads / default_med:.2f}")
        print(f"    write_cell_set vs ndarray.tofile: {statistics.median(times['ndarray.tofile + fsync']) / ours:.2f}")
    return ours


def bench_official_loop(directory: str, footprints: np.ndarray, traces: np.ndarray, ours: float, budget: float) -> None:
    try:
        import isx
    except ImportError as err:
        print(f"[2] official isx not available ({err}); ratio not measured")
        return
    n = len(footprints)
    out = os.path.join(directory, "official.isxd")
    _drop(out)
    start = time.perf_counter()
    cs = isx.CellSet.write(out, isx.Timing(num_samples=SAMPLES), isx.Spacing(num_pixels=(ROWS, COLS)))
    done = 0
    for k in range(n):
        cs.set_cell_data(k, footprints[k], traces[k], f"C{k:03d}")
        done += 1
        if time.perf_counter() - start > budget:
            break
    cs.flush()
    del cs
    os.sync()
    elapsed = time.perf_counter() - start
    _drop(out)
    if done == n:
        total, note = elapsed, "measured over all cells"
    else:
        total, note = elapsed * n / done, f"EXTRAPOLATED linearly from {done} of {n} cells ({elapsed:.2f} s)"
    print(f"[2] official isx.CellSet loop (set_cell_data per cell, flush, os.sync): {total:.2f} s  ({note})")
    print(f"    official loop / write_cell_set time ratio: {total / ours:.2f}x")


_CHILD = PEAK_RSS + r"""
import os, sys
import dask.array as da, numpy as np
import isx_dask as xd
rows, cols, samples, n, path, trace_cells = 400, 640, 36000, int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rng = da.random.default_rng(0)
footprints = rng.random((n, rows, cols), dtype=np.float32, chunks=(16, rows, cols))
traces = rng.standard_normal((n, samples), dtype=np.float32, chunks=(trace_cells, samples))
xd.write_cell_set(footprints, traces, path, timing=xd.Timing(samples), spacing=xd.Spacing(num_pixels=(rows, cols)),
                  compute_kwargs={"scheduler": "threads", "num_workers": 2})
print(_peak_rss(), os.path.getsize(path))
"""


def bench_memory(directory: str, sizes: list[int]) -> None:
    print("[3] peak resident memory (VmHWM) of a child writing lazily generated footprints (chunks of 16 cells) and traces")
    for trace_cells in (16, 100):
        print(f"    traces in chunks of {trace_cells} cells" + (" (as the footprints)" if trace_cells == 16 else " (not aligned with the footprints)"))
        peaks = []
        for n in sizes:
            out = os.path.join(directory, f"mem_{n}.isxd")
            _drop(out)
            start = time.perf_counter()
            res = subprocess.run([sys.executable, "-c", _CHILD, str(n), out, str(trace_cells)], capture_output=True, text=True, check=True)
            elapsed = time.perf_counter() - start
            peak, size = (int(v) for v in res.stdout.split())
            _drop(out)
            peaks.append(peak)
            print(f"    {n:5d} cells, {size / 1e9:5.2f} GB file: peak RSS {peak / 2**20:6.0f} MiB  ({elapsed:.1f} s)")
        print(f"    ratio peak({sizes[-1]} cells) / peak({sizes[0]} cells): {peaks[-1] / peaks[0]:.2f}  (file size ratio {sizes[-1] / sizes[0]:.0f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temp dir under the cwd)")
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds of rest before every timed write")
    parser.add_argument("--states", nargs="+", default=["cold", "warm"], choices=["cold", "warm"])
    parser.add_argument("--official-budget", type=float, default=90.0, help="seconds before the official loop is stopped and extrapolated")
    parser.add_argument("--memory-cells", type=int, nargs="+", default=[250, 1000])
    args = parser.parse_args()
    directory = args.dir or tempfile.mkdtemp(prefix="bench_cell_set_", dir=os.getcwd())
    os.makedirs(directory, exist_ok=True)
    footprints, traces = make_cells(args.cells)
    ours = bench_write(directory, footprints, traces, args.repeats, args.pause, args.states)
    bench_official_loop(directory, footprints, traces, ours, args.official_budget)
    del footprints, traces
    bench_memory(directory, args.memory_cells)
    if args.dir is None and not os.listdir(directory):
        os.rmdir(directory)


if __name__ == "__main__":
    main()
