"""``isx-dask``: the command line (``demo``, ``info``); each command is a thin call to public functions."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import Sequence

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    import dask
    from dask.diagnostics import ProgressBar

    from . import open_isxd, write_movie
    from .examples import synthetic_recording

    rec = synthetic_recording(args.frames, (args.rows, args.cols), args.cells, seed=args.seed)
    nbytes = rec.frames.nbytes
    out_dir = args.output_dir or tempfile.mkdtemp(prefix="isx_dask_demo_")
    path = os.path.join(out_dir, "demo_movie.isxd")
    print(f"Writing a synthetic calcium-imaging movie: {rec.frames.shape} uint16, {nbytes / 2**20:.0f} MiB, "
          f"{args.cells} cells, chunks {rec.frames.chunksize}")
    start = time.perf_counter()
    with ProgressBar(), dask.config.set(scheduler="threads"):
        write_movie(rec.frames, path, timing=rec.timing, spacing=rec.spacing, overwrite=True)
    elapsed = time.perf_counter() - start
    print(f"Wrote {path} in {elapsed:.2f} s ({nbytes / 2**20 / elapsed:.0f} MiB/s, synthesis included)")
    movie = open_isxd(path)
    same = bool((movie.frames == rec.frames).all().compute())
    print(f"Read back: {movie!r}")
    print(f"Frames identical to the source: {same}")
    return 0 if same else 1


def _info(args: argparse.Namespace) -> int:
    from . import open_isxd

    f = open_isxd(args.path)
    print(f"path:    {f.path}")
    print(f"type:    {f.type.name.lower().replace('_', ' ')}")
    for name in ("shape", "dtype"):
        if hasattr(f, name):
            print(f"{name + ':':9}{getattr(f, name)}")
    if "timingInfo" in f.metadata:
        t = f.timing
        print(f"timing:  {t.num_samples} samples, period {t.period.num}/{t.period.den} s, start {t.start.to_datetime()} "
              f"(UTC offset {t.start.utc_offset} s); dropped {list(t.dropped)}, cropped {list(t.cropped)}, blank {list(t.blank)}")
    if "spacingInfo" in f.metadata:
        s = f.spacing
        print(f"spacing: {s.num_pixels[0]} x {s.num_pixels[1]} pixels (rows x cols), pixel size "
              f"{s.pixel_size[0]} x {s.pixel_size[1]} um, top left ({s.top_left[0]}, {s.top_left[1]}) um")
    if f.extra_properties is not None:
        print(f"extra:   {f.extra_properties}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``isx-dask``."""
    parser = argparse.ArgumentParser(prog="isx-dask", description="Write and inspect Inscopix .isxd files with Dask.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="write a synthetic calcium-imaging movie, read it back and report the speed")
    demo.add_argument("--frames", type=int, default=1500, help="number of frames (default 1500)")
    demo.add_argument("--rows", type=int, default=400, help="frame rows (default 400)")
    demo.add_argument("--cols", type=int, default=640, help="frame columns (default 640)")
    demo.add_argument("--cells", type=int, default=60, help="number of cells (default 60)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--output-dir", help="where to write demo_movie.isxd (default: a new temporary directory)")
    demo.set_defaults(func=_demo)
    info = sub.add_parser("info", help="print a file's type, shape, dtype, timing and spacing")
    info.add_argument("path", help=".isxd file")
    info.set_defaults(func=_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``isx-dask`` with ``argv`` (default: the process arguments); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (OSError, ValueError, TypeError) as err:
        print(f"isx-dask {args.command}: error: {err}", file=sys.stderr)
        return 2
