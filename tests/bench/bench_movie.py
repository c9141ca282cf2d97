"""Benchmark: write_movie throughput and memory, as ratios against baselines measured in the same run.

Prints:
1. write_movie from an in-memory Dask array (1280x800 uint16, 2.1 GB by default), with the
   threaded scheduler's default threads and with the writers' own default (two per core), against
   (a) the O_DIRECT baseline: ``dask.array.store`` of the same chunks into a target that
   ``pwrite``s them through a page-aligned buffer on an ``O_DIRECT`` descriptor (the disk's
   physical limit; target >= 0.9; also run with two threads per core), and (b) ``ndarray.tofile`` of the same bytes (target >= 1.0).
   Every write is durable (fsync), on the same disk; the methods alternate (rotating order),
   each after the same preparation and pause, in a cold state (page cache dropped) and in a
   warm one; medians are compared.
2. write_movie vs the official isx frame loop (``Movie.set_frame_data``).
3. peak resident memory of a child process writing a lazily generated 1 GB and 8 GB movie
   (target: 8 GB figure <= 1.2x the 1 GB one, and under 1 GB).

Run: ``python tests/bench/bench_movie.py [--dir DIR] [--gb 2.1] [--repeats 3]``; for a smoke
run ``--gb 0.2 --memory-gb 0.1 0.4 --repeats 2 --pause 0.2``. Use a directory on the disk to
measure (not a tmpfs). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _baseline import PEAK_RSS, alternate, direct_store, peak_rss_of_child, remove, report, tofile_durable  # noqa: E402

ROWS, COLS = 800, 1280
FRAME_NBYTES = ROWS * COLS * 2


def bench_write(directory: str, gbytes: float, repeats: int, pause: float, states: list[str]) -> float:
    import dask.array as da

    import isx_dask as xd

    n = int(gbytes * 1e9 // FRAME_NBYTES) + 1
    frames = np.random.default_rng(0).integers(0, 4096, size=(n, ROWS, COLS), dtype=np.uint16)
    arr = da.from_array(frames, chunks=(32, ROWS, COLS))
    timing, spacing = xd.Timing(n, xd.Duration(1, 20)), xd.Spacing(num_pixels=(ROWS, COLS))
    threads = 2 * (os.cpu_count() or 1)  # the writers' default: two threads per core
    raw, tof, out = (os.path.join(directory, name) for name in ("direct.bin", "tofile.bin", "movie.isxd"))
    methods = {
        "O_DIRECT dask.array.store (limit)": lambda: direct_store([arr], raw),
        f"same limit, {threads} threads": lambda: direct_store([arr], raw, num_workers=threads),
        "write_movie, one thread per core": lambda: xd.write_movie(arr, out, timing=timing, spacing=spacing, compute_kwargs={"scheduler": "threads", "num_workers": os.cpu_count()}),
        f"write_movie, default {threads} threads": lambda: xd.write_movie(arr, out, timing=timing, spacing=spacing),
        "ndarray.tofile + fsync": lambda: tofile_durable([frames], tof),
    }
    ours = 0.0
    for state in states:
        times = alternate(methods, repeats, state, pause, lambda: remove(raw, tof, out), [raw, tof, out])
        title = (f"[1:{state}] {n} frames {ROWS}x{COLS} uint16 = {frames.nbytes / 1e9:.2f} GB, {repeats} alternating runs each, "
                 f"pause {pause} s, page cache {'dropped' if state == 'cold' else 'kept'} before each")
        report(title, frames.nbytes, times, "O_DIRECT dask.array.store (limit)",
               {"write_movie, one thread per core": 0.9, f"write_movie, default {threads} threads": 0.9})
        tofile_med = sorted(times["ndarray.tofile + fsync"])[len(times["ndarray.tofile + fsync"]) // 2]
        ours_med = sorted(times["write_movie, one thread per core"])[len(times["write_movie, one thread per core"]) // 2]
        print(f"    write_movie vs ndarray.tofile: {tofile_med / ours_med:.2f} (target >= 1.0)")
        limit_threads = statistics.median(times[f"same limit, {threads} threads"])
        default_med = statistics.median(times[f"write_movie, default {threads} threads"])
        print(f"    write_movie with its default {threads} threads vs the limit with {threads} threads: {limit_threads / default_med:.2f}")
        ours = frames.nbytes / ours_med
    return ours


def bench_official_loop(directory: str, our_rate: float, n_frames: int) -> None:
    try:
        import isx
    except ImportError as err:
        print(f"[2] official isx not available ({err}); ratio not measured")
        return
    frames = np.random.default_rng(1).integers(0, 4096, size=(n_frames, ROWS, COLS), dtype=np.uint16)
    out = os.path.join(directory, "official.isxd")
    remove(out)

    def loop() -> None:
        movie = isx.Movie.write(out, isx.Timing(num_samples=n_frames), isx.Spacing(num_pixels=(ROWS, COLS)), np.uint16)
        for i in range(n_frames):
            movie.set_frame_data(i, frames[i])
        movie.flush()
        del movie
        os.sync()

    start = time.perf_counter()
    loop()
    t = time.perf_counter() - start
    remove(out)
    rate = frames.nbytes / t
    print(f"[2] official isx frame loop, {n_frames} frames ({frames.nbytes / 1e9:.2f} GB): {t:.2f} s  {rate / 1e6:.0f} MB/s")
    print(f"    write_movie / official loop throughput ratio: {our_rate / rate:.1f}x")


_CHILD = PEAK_RSS + r"""
import os, sys
import dask.array as da, numpy as np
import isx_dask as xd
rows, cols, n, path = 800, 1280, int(sys.argv[1]), sys.argv[2]
frames = da.random.default_rng(0).integers(0, 4096, size=(n, rows, cols), dtype=np.uint16, chunks=(16, rows, cols))
xd.write_movie(frames, path, timing=xd.Timing(n), spacing=xd.Spacing(num_pixels=(rows, cols)),
               compute_kwargs={"scheduler": "threads", "num_workers": 2})
print(_peak_rss(), os.path.getsize(path))
"""


def bench_memory(directory: str, sizes_gb: list[float]) -> None:
    print("[3] peak resident memory (VmHWM: anonymous + file-backed mapped pages) of a child writing a lazy movie")
    peaks = []
    for gb in sizes_gb:
        n = int(gb * 1e9 // FRAME_NBYTES)
        out = os.path.join(directory, f"mem_{gb}.isxd")
        remove(out)
        peak, rest, elapsed = peak_rss_of_child(_CHILD, [str(n), out])
        remove(out)
        peaks.append(peak)
        print(f"    {int(rest[0]) / 1e9:5.2f} GB file: peak RSS {peak / 2**20:6.0f} MiB  ({elapsed:.1f} s)")
    print(f"    ratio largest/smallest peak: {peaks[-1] / peaks[0]:.2f} (target <= 1.2, and under 1 GiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temp dir under the cwd)")
    parser.add_argument("--gb", type=float, default=2.1, help="size of the in-memory movie for [1]")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds of rest before every timed write")
    parser.add_argument("--states", nargs="+", default=["cold", "warm"], choices=["cold", "warm"])
    parser.add_argument("--official-frames", type=int, default=150)
    parser.add_argument("--memory-gb", type=float, nargs="+", default=[1.0, 8.0])
    args = parser.parse_args()
    directory = args.dir or tempfile.mkdtemp(prefix="bench_movie_", dir=os.getcwd())
    rate = bench_write(directory, args.gb, args.repeats, args.pause, args.states)
    bench_official_loop(directory, rate, args.official_frames)
    bench_memory(directory, args.memory_gb)


if __name__ == "__main__":
    main()
