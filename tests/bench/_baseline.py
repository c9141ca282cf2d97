"""Shared pieces of the benchmarks: same-run baselines, cache states, medians and peak memory.

The ``O_DIRECT`` baseline is written here independently of ``isx_dask._io``: a
``dask.array.store`` target that ``pwrite``s each chunk's bytes through a
page-aligned buffer of its thread on a descriptor opened with ``O_DIRECT``
(whole aligned blocks; any unaligned edge with an ordinary ``pwrite``), and one
``fsync`` at the end. It is the physical limit the writers are measured against.
Not collected by pytest.
"""

from __future__ import annotations

import math
import mmap
import os
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Callable

import numpy as np

ALIGN = max(4096, mmap.PAGESIZE)
_local = threading.local()


def _buffer(nbytes: int) -> memoryview:
    buf = getattr(_local, "buf", None)
    if buf is None or len(buf) < nbytes:
        buf = mmap.mmap(-1, nbytes)
        _local.buf = buf
    return memoryview(buf)[:nbytes]


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        n = os.pwrite(fd, data, offset)
        data, offset = data[n:], offset + n


def direct_write(path: str, data: memoryview, offset: int, piece: int = 64 * 2**20) -> None:
    """Write ``data`` at ``offset`` of ``path``: aligned blocks with O_DIRECT, edges buffered."""
    start = -(-offset // ALIGN) * ALIGN
    stop = (offset + len(data)) // ALIGN * ALIGN
    fd = os.open(path, os.O_WRONLY)
    try:
        if stop <= start:
            _pwrite_all(fd, data, offset)
            return
        if start > offset:
            _pwrite_all(fd, data[: start - offset], offset)
        if stop < offset + len(data):
            _pwrite_all(fd, data[stop - offset :], stop)
        dfd = os.open(path, os.O_WRONLY | getattr(os, "O_DIRECT", 0))
        try:
            body = data[start - offset : stop - offset]
            step = min(piece, len(body))
            buf = _buffer(step)
            for k in range(0, len(body), step):
                n = min(step, len(body) - k)
                buf[:n] = body[k : k + n]
                _pwrite_all(dfd, buf[:n], start + k)
        finally:
            os.close(dfd)
    finally:
        os.close(fd)


class DirectTarget:
    """A C-contiguous array at ``offset`` of ``path``, for ``dask.array.store`` of chunks of whole rows of axis 0."""

    def __init__(self, path: str, shape: tuple[int, ...], dtype: Any, offset: int = 0) -> None:
        self.path, self.shape, self.dtype, self.offset = path, shape, np.dtype(dtype), offset
        self.ndim = len(shape)
        self.row_nbytes = math.prod(shape[1:]) * self.dtype.itemsize

    def __setitem__(self, key: Any, value: np.ndarray) -> None:
        first = key[0].start or 0
        for sl, n in zip(key[1:], self.shape[1:]):
            assert (sl.start or 0) == 0 and (sl.stop is None or sl.stop == n), "whole rows only"
        data = np.ascontiguousarray(value, dtype=self.dtype).reshape(-1).data.cast("B")
        direct_write(self.path, data, self.offset + first * self.row_nbytes)


def direct_store(arrays: list[Any], path: str, offsets: list[int] | None = None, total: int | None = None,
                 num_workers: int | None = None) -> None:
    """``dask.array.store`` of each array into a preallocated file with O_DIRECT, then ``fsync`` (Dask's default threads, or ``num_workers``)."""
    import dask.array as da

    offsets = offsets or [0] * len(arrays)
    size = total if total is not None else max(o + a.nbytes for o, a in zip(offsets, arrays))
    with open(path, "wb") as f:
        f.truncate(size)
    targets = [DirectTarget(path, a.shape, a.dtype, o) for a, o in zip(arrays, offsets)]
    da.store(arrays, targets, lock=False, scheduler="threads", num_workers=num_workers)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def tofile_durable(arrays: list[np.ndarray], path: str) -> None:
    """``ndarray.tofile`` of each array, one after another, then ``fsync``."""
    with open(path, "wb") as f:
        for a in arrays:
            a.tofile(f)
        f.flush()
        os.fsync(f.fileno())


def drop_caches(paths: list[str] = ()) -> str:  # type: ignore[assignment]
    """Make the page cache cold: ``sync`` and drop it (root), else evict ``paths`` with ``posix_fadvise``."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return "drop_caches"
    except OSError:
        for p in paths:
            if os.path.exists(p) and hasattr(os, "posix_fadvise"):
                fd = os.open(p, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
        return "posix_fadvise(DONTNEED) of the benchmark's files"


def prepare(state: str, pause: float, paths: list[str]) -> None:
    """Bring the machine to ``state`` ('cold' or 'warm'), then pause the same time before every method."""
    if state == "cold":
        drop_caches(paths)
    else:
        os.sync()
    time.sleep(pause)


def remove(*paths: str) -> None:
    for p in paths:
        if os.path.exists(p):
            os.unlink(p)


def alternate(
    methods: dict[str, Callable[[], None]], repeats: int, state: str, pause: float, cleanup: Callable[[], None], paths: list[str]
) -> dict[str, list[float]]:
    """Time every method ``repeats`` times, rotating their order each round, each after the same preparation.

    Every method runs once untimed first (imports, thread pools, buffers), so no method pays its
    first-use costs inside the measurement.
    """
    names = list(methods)
    times: dict[str, list[float]] = {n: [] for n in names}
    for name in names:
        cleanup()
        methods[name]()
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            cleanup()
            prepare(state, pause, paths)
            start = time.perf_counter()
            methods[name]()
            times[name].append(time.perf_counter() - start)
    cleanup()
    return times


def report(title: str, nbytes: int, times: dict[str, list[float]], baseline: str, targets: dict[str, float]) -> None:
    """Print medians, throughputs and ratios of throughput against ``baseline``."""
    print(title)
    base = statistics.median(times[baseline])
    for name, ts in times.items():
        med = statistics.median(ts)
        line = f"    {name:<34} median {med:7.2f} s  {nbytes / med / 1e9:5.2f} GB/s  (runs: {', '.join(f'{t:.2f}' for t in ts)})"
        if name != baseline:
            ratio = base / med
            goal = targets.get(name)
            line += f"  ratio vs {baseline}: {ratio:.2f}" + (f" (target >= {goal})" if goal else "")
        print(line)


def peak_rss_of_child(code: str, args: list[str]) -> tuple[int, list[str], float]:
    """Run ``code`` in a child; it must print its peak RSS in bytes first. Returns (peak, rest, seconds)."""
    start = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(res.stderr)
    elapsed = time.perf_counter() - start
    first, *rest = res.stdout.split()
    return int(first), rest, elapsed


PEAK_RSS = """
def _peak_rss():
    try:
        with open("/proc/self/status") as f:
            status = dict(line.split(":", 1) for line in f)
        return int(status["VmHWM"].split()[0]) * 1024
    except OSError:
        import resource, sys
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
"""
