"""``isx-dask``: the command line (``demo``, ``info``, ``convert``); each command is a thin call to public functions.

Exit codes: 0 on success, 2 for bad usage or bad input (with a one-line
``isx-dask COMMAND: error: ...`` message), 1 for an unexpected failure.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from fractions import Fraction
from typing import Any, Sequence

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    import dask
    from dask.diagnostics.progress import ProgressBar

    from . import open_isxd, write_movie
    from .examples import synthetic_recording

    rec = synthetic_recording(args.frames, (args.rows, args.cols), args.cells, seed=args.seed)
    nbytes = rec.frames.nbytes
    out_dir = args.output_dir or tempfile.mkdtemp(prefix="isx_dask_demo_")
    path = os.path.join(out_dir, "demo_movie.isxd")
    print(f"Writing a synthetic calcium-imaging movie: {rec.frames.shape} uint16, {nbytes / 2**20:.0f} MiB, "
          f"{args.cells} cells, chunks {rec.frames.chunksize}")
    start = time.perf_counter()
    with ProgressBar(), dask.config.set(scheduler="threads"):  # type: ignore[no-untyped-call]
        write_movie(rec.frames, path, timing=rec.timing, spacing=rec.spacing, overwrite=True)
    elapsed = time.perf_counter() - start
    print(f"Wrote {path} in {elapsed:.2f} s ({nbytes / 2**20 / elapsed:.0f} MiB/s, synthesis of the frames included;"
          f" tests/bench/bench_movie.py measures the writer alone)")
    movie: Any = open_isxd(path)
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


class UsageError(ValueError):
    """Bad command-line input, reported with exit code 2."""


def _is_zarr(text: str) -> bool:
    return "://" in text or text.rstrip("/").endswith(".zarr")


def _parse_chunks(text: str | None) -> Any:
    if text is None:
        return None
    try:
        parts = [int(p) for p in text.split(",")]
    except ValueError:
        raise UsageError(f"--chunks must be an int or comma-separated ints (e.g. 100 or 100,256,256), got {text!r}") from None
    if any(p <= 0 for p in parts):
        raise UsageError(f"--chunks must be positive, got {text!r}")
    return parts[0] if len(parts) == 1 else tuple(parts)


def _parse_fraction(text: str, option: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"{option} must be a number or a fraction such as 1/20, got {text!r}") from None
    if value <= 0:
        raise UsageError(f"{option} must be > 0, got {text!r}")
    return value


def _run(delayed: Any, scheduler: str | None, progress: bool) -> None:
    """Compute ``delayed`` with the chosen scheduler, showing progress."""
    from dask.base import compute

    if scheduler is not None and "://" in scheduler:
        from distributed import Client, progress as distributed_progress

        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            future = client.compute(delayed)
            if progress:
                distributed_progress(future)  # type: ignore[no-untyped-call]
                print(file=sys.stderr)
            future.result()
        return
    import dask.config
    from dask.diagnostics.progress import ProgressBar

    with dask.config.set(scheduler=scheduler or "threads"):
        if progress:
            with ProgressBar(out=sys.stderr):  # type: ignore[no-untyped-call]
                compute(delayed)  # type: ignore[no-untyped-call]
        else:
            compute(delayed)  # type: ignore[no-untyped-call]


def _convert(args: argparse.Namespace) -> int:
    from . import isxd_to_zarr, zarr_to_isxd
    from .convert import make_compressor

    src, dst = args.src, args.dst
    start = time.perf_counter()
    if src.endswith(".isxd") and _is_zarr(dst):
        if args.period is not None or args.pixel_size is not None or args.dtype is not None:
            raise UsageError("--period, --pixel-size and --dtype apply to Zarr -> .isxd only")
        if not os.path.exists(src):
            raise FileNotFoundError(f"source {src!r} does not exist")
        from . import open_isxd

        dtype = getattr(open_isxd(src), "dtype", None) or "float32"
        compressor = make_compressor(args.compressor, args.clevel, dtype=dtype, zarr_format=args.zarr_format)
        delayed = isxd_to_zarr(src, dst, chunks=_parse_chunks(args.chunks), compressor=compressor if compressor is not None else False,
                               zarr_format=args.zarr_format, overwrite=args.overwrite, compute=False)
    elif _is_zarr(src) and dst.endswith(".isxd"):
        if args.chunks is not None or args.compressor != "zstd" or args.clevel != 5 or args.zarr_format != 3:
            raise UsageError("--chunks, --compressor, --clevel and --zarr-format apply to .isxd -> Zarr only")
        timing = spacing = None
        if args.period is not None or args.pixel_size is not None:
            import zarr

            from .convert import _open_zarr
            from .metadata import Duration, Spacing, Timing

            node = _open_zarr(src, None)
            if args.period is not None:
                period = _parse_fraction(args.period, "--period")
                duration = Duration(period.numerator, period.denominator)
                known = _isxd_attr(node, "timingInfo", Timing.from_dict)
                timing = (dataclasses.replace(known, period=duration) if known is not None
                          else Timing(num_samples=_num_samples(node, zarr), period=duration))
            if args.pixel_size is not None:
                size = _parse_fraction(args.pixel_size, "--pixel-size")
                known_spacing = _isxd_attr(node, "spacingInfo", Spacing.from_dict)
                spacing = (dataclasses.replace(known_spacing, pixel_size=(size, size)) if known_spacing is not None
                           else Spacing(num_pixels=_frame_shape(node, zarr), pixel_size=(size, size)))
        delayed = zarr_to_isxd(src, dst, timing=timing, spacing=spacing, dtype=args.dtype, overwrite=args.overwrite, compute=False)
    else:
        raise UsageError(f"cannot tell the direction from {src!r} -> {dst!r}; expected SRC.isxd DST.zarr or SRC.zarr (or a URL) DST.isxd")
    _run(delayed, args.scheduler, not args.no_progress)
    print(f"Converted {src} -> {dst} in {time.perf_counter() - start:.2f} s")
    return 0


def _isxd_attr(node: Any, key: str, parse: Any) -> Any:
    """``parse`` of the ``isxd`` attribute's ``key`` (timing or spacing kept apart from the overridden field), or None."""
    from .convert import ATTRS_KEY

    footer: Any = dict(node.attrs).get(ATTRS_KEY)
    try:
        return parse(footer[key])
    except (KeyError, TypeError, ValueError):
        return None


def _level0(node: Any, zarr: Any) -> Any:
    if isinstance(node, zarr.Array):
        return node
    arrays = dict(node.arrays())
    from .convert import _multiscales

    ms = _multiscales(dict(node.attrs))
    if "frames" in arrays:
        return arrays["frames"]
    if ms:
        return node[ms[0]["datasets"][0]["path"]]
    if len(arrays) == 1:
        return next(iter(arrays.values()))
    raise UsageError(f"the Zarr group holds arrays {sorted(arrays)}; cannot tell which is the movie")


def _num_samples(node: Any, zarr: Any) -> int:
    return int(_level0(node, zarr).shape[0])


def _frame_shape(node: Any, zarr: Any) -> tuple[int, int]:
    shape = _level0(node, zarr).shape
    return int(shape[-2]), int(shape[-1])


def _scheduler(text: str) -> str:
    if text in ("threads", "processes", "synchronous", "sync") or "://" in text:
        return text
    msg = f"expected threads, processes, synchronous or a dask.distributed address such as tcp://HOST:PORT, got {text!r}"
    raise argparse.ArgumentTypeError(msg)


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
    conv = sub.add_parser(
        "convert", help="convert .isxd -> Zarr or Zarr (path or URL) -> .isxd; the direction comes from the extensions",
        description="Convert SRC.isxd to DST.zarr, or SRC.zarr (a path or an fsspec URL, OME-Zarr or plain) to DST.isxd.",
    )
    conv.add_argument("src", help="source: a .isxd file, or a .zarr path or URL")
    conv.add_argument("dst", help="destination: a .zarr path (from .isxd) or a .isxd file (from Zarr)")
    conv.add_argument("--chunks", help="Zarr chunks: frames (or cells) per chunk, or comma-separated sizes (default about 16 MiB)")
    conv.add_argument("--compressor", choices=["zstd", "lz4", "none"], default="zstd", help="Blosc codec of the Zarr arrays (default zstd)")
    conv.add_argument("--clevel", type=int, choices=range(10), default=5, metavar="0-9", help="compression level (default 5)")
    conv.add_argument("--zarr-format", type=int, choices=[2, 3], default=3, help="Zarr format to write (default 3)")
    conv.add_argument("--period", help="sample period in seconds, e.g. 0.05 or 1/20 (Zarr -> .isxd; overrides the attributes)")
    conv.add_argument("--pixel-size", help="pixel size in microns (Zarr -> .isxd; overrides the attributes)")
    conv.add_argument("--dtype", choices=["uint16", "float32", "uint8"], help="pixel type to store (Zarr -> .isxd)")
    conv.add_argument("--overwrite", action="store_true", help="replace DST if it exists")
    conv.add_argument("--scheduler", type=_scheduler, help="threads (default), processes, synchronous, or a dask.distributed address tcp://HOST:PORT")
    conv.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
    conv.set_defaults(func=_convert)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``isx-dask`` with ``argv`` (default: the process arguments); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError,
            ValueError, TypeError, NotImplementedError) as err:
        hint = " (add --overwrite to replace it)" if isinstance(err, FileExistsError) and hasattr(args, "overwrite") else ""
        print(f"isx-dask {args.command}: error: {_one_line(err)}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"isx-dask {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the command line reports every failure
        print(f"isx-dask {args.command}: unexpected error: {type(err).__name__}: {_one_line(err)}", file=sys.stderr)
        return 1


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
