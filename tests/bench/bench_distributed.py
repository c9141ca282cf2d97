"""Benchmark: cluster writes, durability and write methods, as ratios against baselines of the same run.

Prints:
1. write_movie of a lazily generated >= 1 GB movie (1280x800 uint16) on a
   ``distributed.LocalCluster`` of 2 process workers vs the threaded scheduler
   (ratio of throughputs, target >= 0.7);
2. cost of the durable commit: ``fsync=True`` vs ``fsync=False`` (both followed
   by ``os.sync`` so that the same bytes reach the disk, and without it);
3. ``pwrite`` vs ``mmap`` for full-frame chunks, and for tiled chunks (many short runs);
4. cost of reserving an 8 GB file up front (``fallocate``; ``posix_fallocate``) vs a sparse one;
5. cost of ``resume=True`` (a marker file, and a flush, per chunk).

Run: ``python tests/bench/bench_distributed.py [--dir DIR] [--gb 1]``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

ROWS, COLS = 800, 1280
FRAME_NBYTES = ROWS * COLS * 2


def _pattern(block: np.ndarray, block_info: dict | None = None) -> np.ndarray:
    start = block_info[None]["array-location"][0][0]
    out = np.empty(block.shape, np.uint16)
    out[...] = (np.arange(block.shape[0], dtype=np.uint16) + start)[:, None, None]
    out[:, :, ::7] += 3
    return out


def lazy_movie(num_frames: int, chunks: tuple[int, int, int]):
    import dask.array as da

    return da.zeros((num_frames, ROWS, COLS), dtype=np.uint16, chunks=chunks).map_blocks(_pattern, dtype=np.uint16)


def _drop(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)


def _best(fn, repeats: int, out: str) -> float:
    times = []
    for _ in range(repeats):
        _drop(out)
        os.sync()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    _drop(out)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temporary one)")
    parser.add_argument("--gb", type=float, default=1.0, help="movie size in GB (default 1)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    import distributed

    import isx_dask as xd
    from isx_dask.target import preallocate, remove_partial

    directory = tempfile.mkdtemp(dir=args.dir, prefix="bench_distributed_")
    out = os.path.join(directory, "movie.isxd")
    n = int(args.gb * 1e9 // FRAME_NBYTES) + 1
    gbytes = n * FRAME_NBYTES / 1e9
    frames = lazy_movie(n, (32, ROWS, COLS))
    print(f"movie: {n} frames of {ROWS}x{COLS} uint16 = {gbytes:.2f} GB, chunks of 32 frames; dir {directory}")

    # 1. distributed vs threads
    t_threads = _best(lambda: xd.write_movie(frames, out, scheduler="threads"), args.repeats, out)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            client.run(lambda: None)
            t_dist = _best(lambda: client.compute(xd.write_movie(frames, out, compute=False)).result(), args.repeats, out)
    print(f"[1] threads: {gbytes / t_threads:.2f} GB/s; LocalCluster(2 processes): {gbytes / t_dist:.2f} GB/s; "
          f"ratio distributed/threads = {t_threads / t_dist:.2f}x (target >= 0.7)")

    # 2. fsync
    t_sync = _best(lambda: xd.write_movie(frames, out, scheduler="threads", fsync=True), args.repeats, out)
    t_nosync = _best(lambda: xd.write_movie(frames, out, scheduler="threads", fsync=False), args.repeats, out)
    t_nosync_then_sync = _best(lambda: (xd.write_movie(frames, out, scheduler="threads", fsync=False), os.sync()), args.repeats, out)
    print(f"[2] fsync=True {t_sync:.2f} s; fsync=False {t_nosync:.2f} s (ratio {t_sync / t_nosync:.2f}x); "
          f"fsync=False + os.sync {t_nosync_then_sync:.2f} s (ratio fsync=True / that = {t_sync / t_nosync_then_sync:.2f}x)")

    # 3. pwrite vs mmap
    for label, chunks in (("full frames (32, 800, 1280)", (32, ROWS, COLS)), ("tiles (32, 800, 640)", (32, ROWS, COLS // 2))):
        movie = lazy_movie(n, chunks)
        t_p = _best(lambda: xd.write_movie(movie, out, scheduler="threads", write_method="pwrite"), args.repeats, out)
        t_m = _best(lambda: xd.write_movie(movie, out, scheduler="threads", write_method="mmap"), args.repeats, out)
        t_a = _best(lambda: xd.write_movie(movie, out, scheduler="threads", write_method="auto"), args.repeats, out)
        print(f"[3] {label}: pwrite {gbytes / t_p:.2f} GB/s, mmap {gbytes / t_m:.2f} GB/s, auto {gbytes / t_a:.2f} GB/s; "
              f"mmap/pwrite throughput = {t_p / t_m:.2f}x")

    # 4. reservation of 8 GB
    size = 8 * 10**9
    for reserve in ("never", "auto", "always"):
        start = time.perf_counter()
        partial = preallocate(out, size, reserve=reserve)
        elapsed = time.perf_counter() - start
        blocks = os.stat(partial).st_blocks * 512
        remove_partial(partial)
        print(f"[4] preallocate 8 GB reserve={reserve!r}: {elapsed * 1e3:.1f} ms, {blocks / 1e9:.2f} GB allocated")
    t_never = _best(lambda: xd.write_movie(frames, out, scheduler="threads", reserve="never"), args.repeats, out)
    t_auto = _best(lambda: xd.write_movie(frames, out, scheduler="threads", reserve="auto"), args.repeats, out)
    print(f"[4] write_movie {gbytes:.2f} GB reserve='auto' {t_auto:.2f} s vs 'never' {t_never:.2f} s (ratio {t_auto / t_never:.2f}x)")

    # 5. resume bookkeeping
    t_resume = _best(lambda: xd.write_movie(frames, out, scheduler="threads", resume=True), args.repeats, out)
    print(f"[5] resume=True {t_resume:.2f} s vs resume=False {t_sync:.2f} s (ratio {t_resume / t_sync:.2f}x)")
    os.rmdir(directory)


if __name__ == "__main__":
    main()
