"""Benchmark: write_vessel_set of an rbc set with heatmaps, throughput and memory, against a baseline of the same run.

Prints:
1. ``ndarray.tofile`` of as many bytes as the vessel set, to the same disk (the baseline);
2. write_vessel_set of an rbc velocity set whose correlation heatmaps (> 2 GB) are generated
   lazily by Dask, in a child process: time, MB/s and ratio to the baseline;
3. peak resident memory (VmHWM) of that child, and of a child writing a set 4x smaller:
   it must not grow with the size of the set.

The written file is spot-checked with the official reader (last heatmap of the last vessel)
when ``isx`` is installed. Every output file is deleted.

Run: ``python tests/bench/bench_vessel_set.py [--dir DIR] [--gb 2.2]``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

H, W, T = 64, 64, 2000
VESSEL_NBYTES = T * 3 * H * W * 4  # heatmap bytes per vessel (~98 MB)

_CHILD = r"""
import os, sys, time
import dask.array as da, numpy as np
import isx_dask as xd
n, T, h, w, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def fill(block, block_info=None):
    # Cheap, position-dependent values: vessel index + time index / T.
    loc = block_info[None]["array-location"]
    v = np.arange(*loc[0], dtype=np.float32)[:, None, None, None, None]
    t = np.arange(*loc[1], dtype=np.float32)[None, :, None, None, None] / T
    return np.broadcast_to(v + t, block_info[None]["chunk-shape"]).astype(np.float32)

heat = da.empty((n, T, 3, h, w), dtype=np.float32, chunks=(1, 250, 3, h, w)).map_blocks(fill, dtype=np.float32)
traces = da.random.default_rng(0).random((n, T), chunks=(n, T)).astype(np.float32)
directions = da.random.default_rng(1).random((n, T), chunks=(n, T)).astype(np.float32) * 360
lines = np.tile(np.arange(8, dtype=np.int64).reshape(4, 2), (n, 1, 1))
image = da.zeros((64, 80), dtype=np.float32)
start = time.perf_counter()
xd.write_vessel_set(path, vessel_type="rbc velocity", image=image, lines=lines, traces=traces,
                    direction_traces=directions, correlations=heat, scheduler="threads", num_workers=2)
os.sync()
elapsed = time.perf_counter() - start
with open("/proc/self/status") as f:
    status = dict(line.split(":", 1) for line in f)
print(int(status["VmHWM"].split()[0]) * 1024, os.path.getsize(path), elapsed)
"""


def _drop(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)


def run_child(directory: str, n: int) -> tuple[int, int, float, str]:
    out = os.path.join(directory, f"vessels_{n}.isxd")
    _drop(out)
    res = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(T), str(H), str(W), out],
                         capture_output=True, text=True, check=True)
    peak, size, elapsed = res.stdout.split()
    return int(peak), int(size), float(elapsed), out


def spot_check(path: str, n: int) -> str:
    try:
        import isx
    except ImportError as err:
        return f"official isx not available ({err})"
    vs = isx.VesselSet.read(path)
    got = vs.get_vessel_correlations_data(n - 1, T - 1)
    expected = np.float32(n - 1) + np.float32(T - 1) / np.float32(T)
    ok = vs.num_vessels == n and got.shape == (3, H, W) and np.all(got == expected)
    return "official reader: last heatmap of last vessel " + ("matches" if ok else "DIFFERS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temp dir under the cwd)")
    parser.add_argument("--gb", type=float, default=2.2, help="heatmap bytes of the large set, in GB")
    args = parser.parse_args()
    directory = args.dir or tempfile.mkdtemp(prefix="bench_vessel_set_", dir=os.getcwd())
    try:
        n_large = int(args.gb * 1e9 // VESSEL_NBYTES) + 1
        n_small = max(1, n_large // 4)

        peak, size, elapsed, out = run_child(directory, n_large)
        check = spot_check(out, n_large)
        _drop(out)

        baseline = np.full(size // 4, 1.5, dtype=np.float32)
        raw = os.path.join(directory, "raw.bin")
        start = time.perf_counter()
        baseline.tofile(raw)
        os.sync()
        t_raw = time.perf_counter() - start
        _drop(raw)
        del baseline

        print(f"rbc velocity set: {n_large} vessels x {T} samples, heatmaps (T, 3, {H}, {W}) float32, file {size / 1e9:.2f} GB")
        print(f"[1] ndarray.tofile of {size / 1e9:.2f} GB (+ os.sync): {t_raw:6.2f} s  {size / t_raw / 1e6:7.0f} MB/s")
        print(f"[2] write_vessel_set, lazy Dask heatmaps (+ fsync commit, os.sync): {elapsed:6.2f} s  "
              f"{size / elapsed / 1e6:7.0f} MB/s  ratio to tofile {t_raw / elapsed:.2f}")
        print(f"    {check}")

        peak_small, size_small, elapsed_small, out_small = run_child(directory, n_small)
        _drop(out_small)
        print("[3] peak resident memory (VmHWM) of the writing child")
        print(f"    {size_small / 1e9:5.2f} GB set ({n_small} vessels): {peak_small / 2**20:6.0f} MiB  ({elapsed_small:.1f} s)")
        print(f"    {size / 1e9:5.2f} GB set ({n_large} vessels): {peak / 2**20:6.0f} MiB  ({elapsed:.1f} s)")
        print(f"    ratio large/small peak: {peak / peak_small:.2f}")
    finally:
        if args.dir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
