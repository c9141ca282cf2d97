"""Benchmark: cluster writes, durability and write methods, as ratios against baselines of the same run.

Prints:
1. write_movie of a lazily generated >= 1 GB movie (1280x800 uint16) on a
   ``distributed.LocalCluster`` of 2 process workers vs the threaded scheduler
   (ratio of throughputs, target >= 0.7);
2. cost of the durable commit: ``fsync=True`` vs ``fsync=False`` (both followed
   by ``os.sync`` so that the same bytes reach the disk, and without it);
3. ``direct`` vs ``pwrite`` vs ``mmap`` for full-frame chunks, and for tiled chunks (many
   short runs), to disk, and (3b) ``pwrite`` vs ``mmap`` into the page cache only (the CPU
   cost of each path);
4. cost of reserving an 8 GB file up front (``fallocate``; ``posix_fallocate``) vs a sparse one;
5. cost of ``resume=True`` (a marker file, and a flush, per chunk).

Run: ``python tests/bench/bench_distributed.py [--dir DIR] [--gb 1] [--rounds 5]``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def _timed(fn, out: str) -> float:
    _drop(out)
    os.sync()
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    _drop(out)
    return elapsed


def compare(fa, fb, out: str, rounds: int) -> tuple[float, float, float]:
    """Run ``fa`` and ``fb`` alternately; best time of each and the median of per-round ratios ``t_b / t_a``.

    The disk of a virtual machine drifts by 2x from minute to minute, so only
    measurements taken side by side are compared.
    """
    ta, tb, ratios = [], [], []
    for k in range(rounds):
        if k % 2:
            b, a = _timed(fb, out), _timed(fa, out)
        else:
            a, b = _timed(fa, out), _timed(fb, out)
        ta.append(a)
        tb.append(b)
        ratios.append(b / a)
    return min(ta), min(tb), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory on the disk to measure (default: a temporary one)")
    parser.add_argument("--gb", type=float, default=1.0, help="movie size in GB (default 1)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per comparison (default 5)")
    args = parser.parse_args()

    import distributed

    import isx_dask as xd
    from isx_dask.target import preallocate, remove_partial

    directory = tempfile.mkdtemp(dir=args.dir, prefix="bench_distributed_")
    out = os.path.join(directory, "movie.isxd")
    n = int(args.gb * 1e9 // FRAME_NBYTES) + 1
    gb = n * FRAME_NBYTES / 1e9
    frames = lazy_movie(n, (32, ROWS, COLS))
    r = args.rounds
    print(f"movie: {n} frames of {ROWS}x{COLS} uint16 = {gb:.2f} GB, chunks of 32 frames; dir {directory}; "
          f"{r} alternating rounds per comparison; ratios are medians of per-round ratios")

    def threads(**kw):
        return lambda: xd.write_movie(frames, out, compute_kwargs={"scheduler": "threads"}, **kw)

    # 1. distributed vs threads
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            client.run(lambda: None)
            t_thr, t_dist, ratio = compare(
                threads(), lambda: client.compute(xd.write_movie(frames, out, compute=False)).result(), out, r
            )
    print(f"[1] threads {gb / t_thr:.2f} GB/s; LocalCluster(2 process workers) {gb / t_dist:.2f} GB/s (best runs); "
          f"throughput distributed/threads = {1 / ratio:.2f}x (target >= 0.7)")

    # 2. fsync
    t_nosync, t_sync, ratio = compare(threads(fsync=False), threads(fsync=True), out, r)
    print(f"[2] fsync=True {t_sync:.2f} s vs fsync=False {t_nosync:.2f} s (best runs): time ratio fsync=True/fsync=False {ratio:.2f}x")
    t_a, t_b, ratio2 = compare(lambda: (threads(fsync=False)(), os.sync()), threads(fsync=True), out, r)
    print(f"[2] fsync=True vs fsync=False followed by os.sync (same bytes on disk): time ratio {ratio2:.2f}x")

    # 3. direct vs pwrite vs mmap
    for label, chunks in (("full frames (32, 800, 1280)", (32, ROWS, COLS)), ("tiles (32, 800, 640)", (32, ROWS, COLS // 2))):
        movie = lazy_movie(n, chunks)

        def method(name: str):
            return lambda: xd.write_movie(movie, out, compute_kwargs={"scheduler": "threads"}, write_method=name)

        t_p, t_m, ratio = compare(method("pwrite"), method("mmap"), out, r)
        _, t_d, ratio_d = compare(method("pwrite"), method("direct"), out, r)
        print(f"[3] {label}: pwrite {gb / t_p:.2f} GB/s, mmap {gb / t_m:.2f} GB/s, direct {gb / t_d:.2f} GB/s (best runs); "
              f"throughput mmap/pwrite = {1 / ratio:.2f}x, direct/pwrite = {1 / ratio_d:.2f}x")

    # 3b. the same without the disk: chunk writes into the page cache only
    from isx_dask.layout import ArrayLayout
    from isx_dask.target import IsxdTarget

    block = np.random.default_rng(0).integers(0, 4096, (32, ROWS, COLS), dtype=np.uint16)
    for label, cols in (("full frames (32, 800, 1280)", COLS), ("tiles (32, 800, 640)", COLS // 2)):
        layout = ArrayLayout.contiguous(0, (160, ROWS, COLS), "<u2")

        def fill(method: str) -> None:
            partial = preallocate(out, layout.end, reserve="never")
            target = IsxdTarget(partial, layout, method)  # type: ignore[arg-type]
            for i in range(0, 160, 32):
                target[i : i + 32, :, :cols] = block[:, :, :cols]
            remove_partial(partial)

        t_p, t_m, ratio = compare(lambda: fill("pwrite"), lambda: fill("mmap"), out, 2 * r)
        nbytes = 160 * ROWS * cols * 2 / 1e9
        print(f"[3b] page cache only, {label}: pwrite {nbytes / t_p:.2f} GB/s, mmap {nbytes / t_m:.2f} GB/s (best runs); "
              f"throughput mmap/pwrite = {1 / ratio:.2f}x")

    # 4. reservation of 8 GB
    size = 8 * 10**9
    for reserve in ("never", "auto", "always"):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            partial = preallocate(out, size, reserve=reserve)
            times.append(time.perf_counter() - start)
            blocks = os.stat(partial).st_blocks * 512
            remove_partial(partial)
        print(f"[4] preallocate 8 GB reserve={reserve!r}: {min(times) * 1e3:.1f} ms (best of 3), {blocks / 1e9:.2f} GB allocated")
    _, _, ratio = compare(threads(reserve="never"), threads(reserve="auto"), out, r)
    print(f"[4] write_movie {gb:.2f} GB reserve='auto' vs 'never': time ratio 'auto'/'never' {ratio:.2f}x")

    # 5. resume bookkeeping
    _, _, ratio = compare(threads(), threads(resume=True), out, r)
    print(f"[5] resume=True vs resume=False (markers and a flush per chunk): time ratio resume/plain {ratio:.2f}x")
    os.rmdir(directory)


if __name__ == "__main__":
    main()
