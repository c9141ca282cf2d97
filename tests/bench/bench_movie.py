"""Benchmark: write_movie throughput and memory, as ratios against baselines measured in the same run.

Prints:
1. write_movie from an in-memory Dask array (1280x800 uint16, >= 2 GB) vs ``ndarray.tofile``
   of the same bytes to the same disk (target >= 0.9);
2. write_movie vs the official isx frame loop (``Movie.set_frame_data``) (target >= 50x);
3. peak resident memory (VmHWM, file-backed mapped pages included) of a child process
   writing a lazily generated 1 GB and 8 GB movie (target: 8 GB figure <= 1.2x the
   1 GB one, and under 1 GB).

Run: ``python tests/bench/bench_movie.py [--dir DIR] [--gb 2]``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROWS, COLS = 800, 1280
FRAME_NBYTES = ROWS * COLS * 2


def _drop(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_tofile_vs_write_movie(directory: str, gbytes: float, repeats: int) -> float:
    import dask.array as da

    import isx_dask as xd

    n = int(gbytes * 1e9 // FRAME_NBYTES) + 1
    frames = np.random.default_rng(0).integers(0, 4096, size=(n, ROWS, COLS), dtype=np.uint16)
    nbytes = frames.nbytes
    arr = da.from_array(frames, chunks=(32, ROWS, COLS))
    raw, out = os.path.join(directory, "raw.bin"), os.path.join(directory, "movie.isxd")
    t_raw, t_ours, t_ours_nosync = [], [], []
    for _ in range(repeats):
        _drop(raw)
        t_raw.append(_timed(lambda: (frames.tofile(raw), os.sync())))
        _drop(out)
        t_ours.append(_timed(lambda: (xd.write_movie(arr, out, scheduler="threads"), os.sync())))
        _drop(out)
        t_ours_nosync.append(_timed(lambda: (xd.write_movie(arr, out, scheduler="threads", fsync=False), os.sync())))
    _drop(raw)
    _drop(out)
    best_raw, best_ours, best_nosync = min(t_raw), min(t_ours), min(t_ours_nosync)
    print(f"[1] {n} frames {ROWS}x{COLS} uint16 = {nbytes / 1e9:.2f} GB, best of {repeats}, each followed by os.sync()")
    print(f"    ndarray.tofile:               {best_raw:6.2f} s  {nbytes / best_raw / 1e6:7.0f} MB/s")
    print(f"    write_movie (fsync commit):   {best_ours:6.2f} s  {nbytes / best_ours / 1e6:7.0f} MB/s  ratio {best_raw / best_ours:.2f}")
    print(f"    write_movie (fsync=False):    {best_nosync:6.2f} s  {nbytes / best_nosync / 1e6:7.0f} MB/s  ratio {best_raw / best_nosync:.2f}")
    return nbytes / best_ours


def bench_official_loop(directory: str, our_rate: float, n_frames: int) -> None:
    try:
        import isx
    except ImportError as err:
        print(f"[2] official isx not available ({err}); ratio not measured")
        return
    frames = np.random.default_rng(1).integers(0, 4096, size=(n_frames, ROWS, COLS), dtype=np.uint16)
    out = os.path.join(directory, "official.isxd")
    _drop(out)

    def loop() -> None:
        movie = isx.Movie.write(out, isx.Timing(num_samples=n_frames), isx.Spacing(num_pixels=(ROWS, COLS)), np.uint16)
        for i in range(n_frames):
            movie.set_frame_data(i, frames[i])
        movie.flush()
        del movie
        os.sync()

    t = _timed(loop)
    _drop(out)
    rate = frames.nbytes / t
    print(f"[2] official isx frame loop, {n_frames} frames ({frames.nbytes / 1e9:.2f} GB): {t:.2f} s  {rate / 1e6:.0f} MB/s")
    print(f"    write_movie / official loop throughput ratio: {our_rate / rate:.1f}x")


_CHILD = r"""
import os, sys, resource
import dask.array as da, numpy as np
import isx_dask as xd
rows, cols, n, path = 800, 1280, int(sys.argv[1]), sys.argv[2]
frames = da.random.default_rng(0).integers(0, 4096, size=(n, rows, cols), dtype=np.uint16, chunks=(16, rows, cols))
xd.write_movie(frames, path, scheduler="threads", num_workers=2, fsync=False)
with open("/proc/self/status") as f:
    status = dict(line.split(":", 1) for line in f)
print(int(status["VmHWM"].split()[0]) * 1024, os.path.getsize(path))
"""


def bench_memory(directory: str, sizes_gb: list[float]) -> None:
    print("[3] peak resident memory (VmHWM: anonymous + file-backed mapped pages) of a child writing a lazy movie")
    peaks = []
    for gb in sizes_gb:
        n = int(gb * 1e9 // FRAME_NBYTES)
        out = os.path.join(directory, f"mem_{gb}.isxd")
        _drop(out)
        start = time.perf_counter()
        res = subprocess.run([sys.executable, "-c", _CHILD, str(n), out], capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - start
        peak, size = (int(v) for v in res.stdout.split())
        _drop(out)
        peaks.append(peak)
        print(f"    {size / 1e9:5.2f} GB file: peak RSS {peak / 2**20:6.0f} MiB  ({elapsed:.1f} s)")
    print(f"    ratio largest/smallest peak: {peaks[-1] / peaks[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temp dir under the cwd)")
    parser.add_argument("--gb", type=float, default=2.1, help="size of the in-memory movie for [1]")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--official-frames", type=int, default=150)
    parser.add_argument("--memory-gb", type=float, nargs="+", default=[1.0, 8.0])
    args = parser.parse_args()
    directory = args.dir or tempfile.mkdtemp(prefix="bench_movie_", dir=os.getcwd())
    rate = bench_tofile_vs_write_movie(directory, args.gb, args.repeats)
    bench_official_loop(directory, rate, args.official_frames)
    bench_memory(directory, args.memory_gb)


if __name__ == "__main__":
    main()
