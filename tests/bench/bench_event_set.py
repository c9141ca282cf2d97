"""Benchmark: event set writing time and memory, as ratios against baselines measured in the same run.

Prints:
1. write_event_set_dense of a lazily generated (cells x samples) float32 array with about
   2% non-zero samples, vs one plain pass over the same Dask array (``(x != 0).sum()``):
   the writer reads its input twice (count, then pack and write), so about 2-3x is expected;
   at two chunkings: time chunks (every cell's run in every chunk is its own write) and
   cell chunks spanning all samples (one run per cell);
2. write_event_set from per-cell arrays of the same events vs the official isx loop
   (``EventSet.set_cell_data`` per cell), if isx is installed;
3. peak resident memory (VmHWM) of a child process writing a dense set at two sizes,
   to show it does not grow with the input.

Run: ``python tests/bench/bench_event_set.py [--dir DIR]``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

CELLS, SAMPLES = 1000, 200_000


def _drop(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def lazy_spikes(cells: int, samples: int, chunks: tuple[int, int]):
    import dask.array as da

    values = da.random.default_rng(0).random((cells, samples), chunks=chunks, dtype=np.float32)
    return da.where(values > 0.98, values, np.float32(0))


def bench_dense(directory: str) -> None:
    import isx_dask as xd

    timing = xd.Timing(num_samples=SAMPLES, period=xd.Duration.from_msecs(50))
    out = os.path.join(directory, "dense.isxd")
    for label, chunks in [("time chunks (1000 x 5000)", (CELLS, 5000)), ("cell chunks (50 x 200000)", (50, SAMPLES))]:
        spikes = lazy_spikes(CELLS, SAMPLES, chunks)
        base = _timed(lambda: (spikes != 0).sum().compute())
        _drop(out)
        took = _timed(lambda: xd.write_event_set_dense(spikes, out, timing=timing, fsync=False))
        size = os.path.getsize(out)
        print(f"dense {label}: {took:.2f} s for {size / 1e6:.0f} MB ({CELLS}x{SAMPLES} float32 = {CELLS * SAMPLES * 4 / 1e9:.1f} GB input); "
              f"one plain pass {base:.2f} s; ratio {took / base:.2f}")


def bench_per_cell(directory: str) -> None:
    import isx_dask as xd

    timing = xd.Timing(num_samples=SAMPLES, period=xd.Duration.from_msecs(50))
    values = lazy_spikes(CELLS, SAMPLES, (100, SAMPLES)).compute()
    offsets, amplitudes = [], []
    for row in values:
        idx = np.flatnonzero(row)
        offsets.append((idx * 50_000).astype(np.uint64))
        amplitudes.append(row[idx])
    events = sum(len(o) for o in offsets)
    ours = os.path.join(directory, "ours.isxd")
    took = _timed(lambda: xd.write_event_set(offsets, amplitudes, ours, timing=timing, fsync=False))
    print(f"write_event_set: {events} events, {took:.2f} s")
    try:
        import isx
    except ImportError:
        print("official isx not installed: no comparison")
        return
    theirs = os.path.join(directory, "theirs.isxd")

    def official() -> None:
        es = isx.EventSet.write(theirs, isx.Timing(num_samples=SAMPLES, period=isx.Duration.from_msecs(50)), [f"C{k:04d}" for k in range(CELLS)])
        for k in range(CELLS):
            es.set_cell_data(k, offsets[k], amplitudes[k])
        es.flush()
        del es

    base = _timed(official)
    print(f"official isx loop: {base:.2f} s; isx_dask is {base / took:.2f}x faster")


CHILD = """
import sys
import isx_dask as xd
sys.path.insert(0, {here!r})
from bench_event_set import lazy_spikes
samples = int(sys.argv[1])
spikes = lazy_spikes(1000, samples, (1000, 5000))
xd.write_event_set_dense(spikes, sys.argv[2], timing=xd.Timing(num_samples=samples), fsync=False, compute_kwargs={"scheduler": "threads", "num_workers": 2})
print([line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")][0])
"""


def bench_memory(directory: str) -> None:
    code = CHILD.format(here=os.path.dirname(os.path.abspath(__file__)))
    peaks = []
    for samples in (100_000, 400_000):
        out = os.path.join(directory, f"mem_{samples}.isxd")
        _drop(out)
        res = subprocess.run([sys.executable, "-c", code, str(samples), out], capture_output=True, text=True, check=True)
        peaks.append(int(res.stdout.split()[-1]) / 1024)
        print(f"peak RSS writing 1000 x {samples} float32 ({1000 * samples * 4 / 1e9:.1f} GB dense): {peaks[-1]:.0f} MiB")
    print(f"peak RSS ratio for 4x the input: {peaks[1] / peaks[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", default=None, help="directory for the files (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        bench_dense(directory)
        bench_per_cell(directory)
        bench_memory(directory)


if __name__ == "__main__":
    main()
