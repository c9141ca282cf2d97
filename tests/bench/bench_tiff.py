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

The methods alternate (rotating order, ``--repeats`` rounds, medians; files
warm in the page cache, or ``--state cold``); conversions include the final
fsync. Run:
``python tests/bench/bench_tiff.py [--frames 300 600] [--size 256] [--chunk-mib 8] [--repeats 3] [--dir DIR]``.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from typing import Iterator

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _baseline import PEAK_RSS, alternate, peak_rss_of_child, remove, report  # noqa: E402

_CHILD = PEAK_RSS + r"""
import os, sys
from isx_dask.sources.tiff import tiff_to_isxd
tiff_to_isxd(sys.argv[1], sys.argv[2], overwrite=True, compute_kwargs={"scheduler": "threads"})
print(_peak_rss())
"""


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


def _nothing(block: np.ndarray) -> np.ndarray:
    return np.zeros((1, 1, 1), np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs=2, default=[300, 600], help="short and long length (frames)")
    parser.add_argument("--size", type=int, default=256, help="frame rows = cols (default 256)")
    parser.add_argument("--chunk-mib", type=int, default=8, help="dask array.chunk-size in MiB (default 8)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--state", default="warm", choices=["cold", "warm"])
    parser.add_argument("--pause", type=float, default=0.5, help="seconds of rest before every timed run")
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()

    import dask
    import dask.array as da
    import tifffile

    import isx_dask as xd
    from isx_dask.sources.tiff import read_tiff, tiff_to_isxd

    os.environ["DASK_ARRAY__CHUNK_SIZE"] = f"{args.chunk_mib}MiB"  # for the child processes
    directory = tempfile.mkdtemp(prefix="bench_tiff_", dir=args.dir)
    out = os.path.join(directory, "out.isxd")
    print(f"frames {args.size}x{args.size} uint16, lengths {args.frames}, chunks of {args.chunk_mib} MiB, "
          f"{args.state} cache, threads on {os.cpu_count()} cores")
    try:
        for compression in (None, "zlib"):
            label = compression or "none"
            sources = [os.path.join(directory, f"m{num}_{label}.ome.tif") for num in args.frames]
            for num, src in zip(args.frames, sources):
                make_tiff(src, num, args.size, compression)
            src, num = sources[1], args.frames[1]

            def tifffile_alone() -> None:
                with tifffile.TiffFile(src) as tif:
                    series = tif.series[0]
                    for first in range(0, num, 64):
                        series.asarray(key=range(first, min(first + 64, num)))

            def lazy_frames_alone() -> None:
                lazy = read_tiff(src).frames
                lazy.map_blocks(_nothing, chunks=(1, 1, 1), dtype=np.uint8).compute()

            def write_movie_of_zeros() -> None:
                lazy = read_tiff(src).frames
                zeros = da.zeros(lazy.shape, dtype=lazy.dtype, chunks=lazy.chunks)
                xd.write_movie(zeros, out, timing=xd.Timing(num_samples=lazy.shape[0]),
                               spacing=xd.Spacing(num_pixels=lazy.shape[1:]), overwrite=True)

            def convert() -> None:
                tiff_to_isxd(src, out, overwrite=True)

            methods = {"tifffile alone": tifffile_alone, "lazy frames alone": lazy_frames_alone,
                       "write_movie of zeros": write_movie_of_zeros, "tiff_to_isxd": convert}
            with dask.config.set({"scheduler": "threads", "array.chunk-size": f"{args.chunk_mib}MiB"}):
                times = alternate(methods, args.repeats, args.state, args.pause, lambda: remove(out), [*sources, out])
            report(f"[compression={label}] {num} frames", num * args.size * args.size * 2, times, "tifffile alone",
                   {"tiff_to_isxd": 0.8})
            peaks = []
            for n, path in zip(args.frames, sources):
                peak, _, elapsed = peak_rss_of_child(_CHILD, [path, out])
                remove(out)
                peaks.append(peak)
                print(f"    peak RSS converting {n} frames: {peak / 2**20:6.0f} MiB  ({elapsed:.1f} s)")
            print(f"    ratio long/short peak: {peaks[1] / peaks[0]:.2f} (target: about 1, whatever the length)")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
