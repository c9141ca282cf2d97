"""Benchmark: TIFF -> .isxd throughput against decoding the TIFF alone, and peak RSS at two lengths.

For an OME-TIFF of uint16 frames written by tifffile (uncompressed, and zlib
compressed), prints:

1. ``tiff_to_isxd`` time vs reading every frame with tifffile alone
   (``TiffFile.series[0].asarray`` in slices of 64 frames, one thread): the
   ratio baseline / conversion (target >= 0.8; above 1 the conversion uses
   both cores);
2. vs the same lazy Dask frames stored into a target that drops the chunks,
   and what writing alone costs (``write_movie`` of zeros in the same chunks)
   (what the write itself costs);
3. the peak RSS (VmHWM) of a fresh process converting the short and the long
   file: it must not grow with the recording's length.

Every timing is the best of ``--repeats`` runs with files in the page cache;
conversions include the final fsync. Run:
``python tests/bench/bench_tiff.py [--frames 300 600] [--size 256] [--chunk-mib 8] [--repeats 3] [--dir DIR]``.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Iterator

import numpy as np


class Discard:
    """A ``da.store`` target that drops every chunk (the cost of producing them only)."""

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape, self.dtype, self.ndim = shape, np.dtype(dtype), len(shape)

    def __setitem__(self, key: Any, value: np.ndarray) -> None:
        pass


def best_of(repeats: int, fn: Any) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def frames(num: int, size: int) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(0)
    base = rng.integers(200, 800, (size, size), dtype=np.uint16)
    for _ in range(num):
        yield base + rng.integers(0, 64, (size, size), dtype=np.uint16)


def make_tiff(path: str, num: int, size: int, compression: str | None) -> None:
    import tifffile

    tifffile.imwrite(
        path, data=frames(num, size), shape=(num, size, size), dtype=np.uint16, ome=True, compression=compression,
        metadata={"axes": "TYX", "TimeIncrement": 0.05, "PhysicalSizeX": 2.5, "PhysicalSizeY": 2.5},
    )


def peak_rss_mib(source: str, out: str, chunk_mib: int) -> float | None:
    """VmHWM of a fresh process that converts ``source`` (Linux only; None elsewhere)."""
    code = (
        "import sys; from isx_dask.sources.tiff import tiff_to_isxd;"
        "tiff_to_isxd(sys.argv[1], sys.argv[2], overwrite=True, compute_kwargs={'scheduler': 'threads'});"
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    )
    if not os.path.exists("/proc/self/status"):
        return None
    env = {**os.environ, "DASK_ARRAY__CHUNK_SIZE": f"{chunk_mib}MiB"}
    done = subprocess.run([sys.executable, "-c", code, source, out], capture_output=True, text=True, check=True, env=env)
    return int(done.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs=2, default=[300, 600], help="short and long length (frames)")
    parser.add_argument("--size", type=int, default=256, help="frame rows = cols (default 256)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-mib", type=int, default=8, help="dask array.chunk-size in MiB (default 8)")
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()

    import dask
    import dask.array as da
    import tifffile

    import isx_dask as xd
    from isx_dask.sources.tiff import read_tiff, tiff_to_isxd

    directory = tempfile.mkdtemp(prefix="bench_tiff_", dir=args.dir)
    out = os.path.join(directory, "out.isxd")
    try:
        print(f"frames {args.size}x{args.size} uint16, lengths {args.frames}, chunks of {args.chunk_mib} MiB, "
              f"best of {args.repeats}, threads on {os.cpu_count()} cores")
        for compression in (None, "zlib"):
            label = compression or "none"
            rss = []
            for num in args.frames:
                src = os.path.join(directory, f"m{num}_{label}.ome.tif")
                make_tiff(src, num, args.size, compression)
                rss.append(peak_rss_mib(src, out, args.chunk_mib))
            src = os.path.join(directory, f"m{args.frames[1]}_{label}.ome.tif")
            mb = args.frames[1] * args.size * args.size * 2 / 1e6

            def tifffile_alone() -> None:
                with tifffile.TiffFile(src) as tif:
                    series = tif.series[0]
                    for first in range(0, args.frames[1], 64):
                        series.asarray(key=range(first, min(first + 64, args.frames[1])))

            def graph_alone() -> None:
                lazy = read_tiff(src).frames
                da.store(lazy, Discard(lazy.shape, lazy.dtype), lock=False)  # type: ignore[no-untyped-call]

            def convert() -> None:
                tiff_to_isxd(src, out, overwrite=True)

            def write_alone() -> None:
                lazy = read_tiff(src).frames
                zeros = da.zeros(lazy.shape, dtype=lazy.dtype, chunks=lazy.chunks)
                xd.write_movie(zeros, out, timing=xd.Timing(num_samples=lazy.shape[0]), spacing=xd.Spacing(num_pixels=lazy.shape[1:]), overwrite=True)

            with dask.config.set({"scheduler": "threads", "array.chunk-size": f"{args.chunk_mib}MiB"}):
                t_base = best_of(args.repeats, tifffile_alone)
                t_graph = best_of(args.repeats, graph_alone)
                t_conv = best_of(args.repeats, convert)
                t_write = best_of(args.repeats, write_alone)
            print(f"[compression={label}] {args.frames[1]} frames, {mb:.0f} MB")
            print(f"  tifffile alone      {t_base:7.3f} s  {mb / t_base:8.1f} MB/s")
            print(f"  lazy frames alone   {t_graph:7.3f} s  {mb / t_graph:8.1f} MB/s")
            print(f"  write_movie alone   {t_write:7.3f} s  {mb / t_write:8.1f} MB/s  (zeros, same chunks: the write's share)")
            print(f"  tiff_to_isxd        {t_conv:7.3f} s  {mb / t_conv:8.1f} MB/s")
            print(f"  ratio vs tifffile alone     {t_base / t_conv:5.2f}  (target >= 0.8)")
            print(f"  ratio vs lazy frames alone  {t_graph / t_conv:5.2f}")
            shown = ", ".join(f"{n} frames: {r:.0f} MiB" if r is not None else f"{n} frames: n/a" for n, r in zip(args.frames, rss))
            print(f"  peak RSS of a converting process: {shown}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
