"""A catalogue of bad inputs, each refused clearly and without touching the directory.

Every case calls one public writer, converter or the command line with one thing
wrong, and asserts:

* the error type a Python user expects (``ValueError``, ``TypeError``,
  ``FileExistsError``, ``FileNotFoundError``, ``IsADirectoryError``,
  :class:`isx_dask.IsxdFormatError`; for the CLI its exit code, 2 for usage
  errors and 1 for failures while running);
* a message that names the argument (and the expected value where there is one);
* the directory is unchanged: no new file, no hidden ``.partial`` (or its
  ``.partial.d`` sidecar), every existing file byte-identical
  (:func:`conftest.directory_state` before and after), no new folder;
* "before any byte": nothing in the directory was opened for writing, created,
  renamed or linked during the call (watched with a Python audit hook), except
  for the cases marked ``late``: values of a lazy Dask (or Zarr) input, which can
  only be checked chunk by chunk as they are computed; these are refused at
  compute with nothing committed and no leftovers.

Incremental writers (``Movie``, ``CellSet`` ...) are opened before the bad call;
their temporary file is part of the "before" state, must come out byte-identical
and is discarded afterwards.

Summary (kept in step by ``test_catalogue_counts``): 504 inputs tried; 476 refused before
any byte with a clear error; 28 (values of lazy Dask, Zarr or TIFF input, and a size the
disk cannot reserve) refused after the temporary file existed, with nothing committed and no
leftovers; 0 known gaps marked ``xfail(strict=True)`` (a gap names the file at fault in its reason).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import dask.array as da
import numpy as np
import pytest

import isx_dask as xd
from isx_dask import Duration, Spacing, Time, Timing
from isx_dask.cli import main as cli_main

from conftest import directory_state, leftovers

PRECIOUS = b"an existing file that must survive byte for byte"

# -- tiny valid data --------------------------------------------------------------------------------
N, ROWS, COLS = 3, 4, 5
T = Timing(num_samples=N, period=Duration(1, 20))
S = Spacing(num_pixels=(ROWS, COLS))
M16 = np.arange(N * ROWS * COLS, dtype=np.uint16).reshape(N, ROWS, COLS)
FP = np.linspace(0, 1, 2 * ROWS * COLS, dtype=np.float32).reshape(2, ROWS, COLS)
TR = np.linspace(0, 1, 2 * N, dtype=np.float32).reshape(2, N)
OFFS = [[0, 50000], [100000]]
AMPS = [[1.0, 2.0], [3.0]]
LINES = np.array([[[0, 0], [1, 1]], [[2, 2], [3, 3]]])
RBC_LINES = np.zeros((2, 4, 2), dtype=np.int64)
IMG = M16[0].astype(np.float32)
GPIO = [([0, 50000], [1.0, 0.0])]


def full(shape: tuple[int, ...], value: Any, dtype: Any) -> np.ndarray:
    return np.full(shape, value, dtype=dtype)


def lazy(array: np.ndarray) -> da.Array:
    """A Dask array of one chunk per first-axis entry (values unknown until computed)."""
    return da.from_array(array, chunks=(1,) + array.shape[1:])


# -- watching the directory -------------------------------------------------------------------------
_WATCH = threading.local()
_WATCHED: dict[str, list[str]] = {}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _WATCHED:
        return
    paths: list[Any] = []
    if event == "open":
        path, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        if writing:
            paths = [path]
    elif event in ("os.mkdir", "os.rename", "os.link", "os.symlink", "os.truncate", "os.remove"):
        paths = [a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
    for p in paths:
        if isinstance(p, int):
            continue
        text = os.path.abspath(os.fsdecode(p))
        for root, seen in _WATCHED.items():
            if text == root or text.startswith(root + os.sep):
                seen.append(f"{event} {text}")


sys.addaudithook(_audit)


@contextlib.contextmanager
def watched(directory: Path):
    """Record every write-open, mkdir, rename or link inside ``directory`` during the block."""
    root = os.path.abspath(directory)
    seen: list[str] = []
    _WATCHED[root] = seen
    try:
        yield seen
    finally:
        del _WATCHED[root]


def tree(directory: Path) -> list[str]:
    """Every entry below ``directory`` (folders included), relative."""
    return sorted(str(p.relative_to(directory)) for p in Path(directory).rglob("*"))


# -- the command line -------------------------------------------------------------------------------
class CliError(Exception):
    """A non-zero exit of ``isx_dask.cli.main``: ``exit N: <stderr>``."""


def cli(*argv: Any) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = cli_main([os.fspath(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    if code:
        raise CliError(f"exit {code}: {err.getvalue()}")


# -- the catalogue ----------------------------------------------------------------------------------
@dataclass
class Case:
    id: str
    call: Callable[[Path, Any], Any]
    error: Any
    match: str
    prepare: Callable[[Path], Any] | None = None
    cleanup: Callable[[Any], Any] | None = None
    existing: bool = False
    late: bool = False
    xfail: str | None = None


CASES: list[Case] = []


def case(id: str, call: Callable[..., Any], error: Any, match: str, **kw: Any) -> None:
    CASES.append(Case(id, call, error, match, **kw))


def out(d: Path) -> Path:
    return d / "out.isxd"


# ---- sources and prepared state ----
def make_movie(d: Path) -> Path:
    p = d / "src.isxd"
    xd.write_movie(M16, p, timing=T, spacing=S)
    return p


def make_text(d: Path) -> Path:
    p = d / "notes.isxd"
    p.write_text("not an isxd file, just text that is long enough to have a trailer\n" * 3)
    return p


def make_zarr(values: np.ndarray, name: str = "src.zarr"):
    def prepare(d: Path) -> Path:
        import zarr

        p = d / name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr warns that fixed-length str arrays have no v3 specification
            z = zarr.open_array(str(p), mode="w", shape=values.shape, dtype=values.dtype, chunks=(1,) + values.shape[1:] if values.ndim else ())
            z[...] = values
        return p

    return prepare


def make_tiff(values: np.ndarray, name: str = "src.tif", **kw: Any):
    def prepare(d: Path) -> Path:
        import tifffile

        p = d / name
        tifffile.imwrite(p, values, **kw)
        return p

    return prepare


def make_plane(d: Path, *, fs: Any = 20.0, drop: str | None = None) -> Path:
    """A tiny suite2p plane folder, written with numpy as suite2p writes it."""
    plane = d / "plane0"
    plane.mkdir()
    stat = [
        {"ypix": np.array([1, 1, 2], np.int32), "xpix": np.array([1, 2, 2], np.int32), "lam": np.ones(3, np.float32),
         "med": [1, 2], "npix": 3, "overlap": np.zeros(3, bool)}
        for _ in range(2)
    ]
    ops = {"Ly": ROWS, "Lx": COLS, "fs": fs, "nframes": N, "yrange": [0, ROWS], "xrange": [0, COLS], "neucoeff": 0.7}
    arrays = {
        "stat.npy": np.array(stat, dtype=object), "ops.npy": np.array(ops, dtype=object),
        "F.npy": TR.copy(), "Fneu.npy": TR * 0.5, "spks.npy": TR.copy(),
        "iscell.npy": np.array([[1.0, 0.9], [0.0, 0.2]]),
    }
    for name, arr in arrays.items():
        if name != drop:
            np.save(plane / name, arr, allow_pickle=True)
    return plane


def opened(factory: Callable[[Path], Any]):
    def prepare(d: Path) -> Any:
        return factory(d)

    return prepare


def discard(writer: Any) -> None:
    writer.discard()


def both(prepare_a: Callable[[Path], Any], prepare_b: Callable[[Path], Any]):
    def prepare(d: Path) -> Any:
        return prepare_a(d), prepare_b(d)

    return prepare


# ==== write_movie ====================================================================================
CASTS = [
    # id, data, dtype, expected value-like text in the message
    ("uint16_300_to_uint8", full((N, ROWS, COLS), 300, np.uint16), np.uint8, "uint8"),
    ("uint32_70000_to_uint16", full((N, ROWS, COLS), 70000, np.uint32), np.uint16, "uint16"),
    ("float64_1e300_to_float32", full((N, ROWS, COLS), 1e300, np.float64), np.float32, "float32"),
    ("int32_minus100_to_uint16", full((N, ROWS, COLS), -100, np.int32), np.uint16, "uint16"),
    ("float_nan_to_uint16", full((N, ROWS, COLS), np.nan, np.float64), np.uint16, "uint16"),
    ("float_1e10_to_uint16", full((N, ROWS, COLS), 1e10, np.float64), np.uint16, "uint16"),
    ("float_0.5_to_uint16", full((N, ROWS, COLS), 0.5, np.float32), np.uint16, "uint16"),
    ("float_inf_to_uint8", full((N, ROWS, COLS), np.inf, np.float32), np.uint8, "uint8"),
    ("int64_2e9_to_float32_is_fine_but_2**40+1", full((N, ROWS, COLS), 2**40 + 1, np.int64), np.float32, "float32"),
]
for cid, data, dtype, text in CASTS:
    case(f"write_movie/cast/{cid}/numpy", lambda d, s, a=data, t=dtype: xd.write_movie(a, out(d), timing=T, spacing=S, dtype=t),
         ValueError, rf"frames .*{text}.*casting='unsafe'")
    case(f"write_movie/cast/{cid}/dask", lambda d, s, a=data, t=dtype: xd.write_movie(lazy(a), out(d), timing=T, spacing=S, dtype=t),
         ValueError, rf"frames .*{text}.*casting='unsafe'", late=True)
    case(f"write_movie/cast/{cid}/dask/overwrite", lambda d, s, a=data, t=dtype: xd.write_movie(lazy(a), out(d), timing=T, spacing=S, dtype=t, overwrite=True),
         ValueError, rf"frames .*{text}", late=True, existing=True)
ONE_BAD = np.zeros((6, ROWS, COLS), np.uint16)
ONE_BAD[4, 2, 3] = 300
case("write_movie/cast/names_the_index/numpy", lambda d, s: xd.write_movie(ONE_BAD, out(d), dtype=np.uint8), ValueError, r"frames holds 1 value\(s\) that uint8 cannot hold exactly \(e.g. np.uint16\(300\) at index \(4, 2, 3\)\)")
case("write_movie/cast/names_the_index/dask", lambda d, s: xd.write_movie(da.from_array(ONE_BAD, chunks=(2, ROWS, COLS)), out(d), dtype=np.uint8), ValueError,
     r"frames holds 1 value\(s\) in the chunk starting at index \(4, 0, 0\) that uint8 cannot hold exactly \(e.g. np.uint16\(300\) at index \(4, 2, 3\)\)", late=True)
case("write_movie/cast/safe_refuses_float_to_uint16", lambda d, s: xd.write_movie(full((N, ROWS, COLS), 1.0, np.float64), out(d), timing=T, spacing=S, dtype=np.uint16, casting="safe"),
     TypeError, r"casting='safe'")
case("write_movie/cast/float64_without_dtype_1e300", lambda d, s: xd.write_movie(full((N, ROWS, COLS), 1e300, np.float64), out(d), timing=T, spacing=S),
     TypeError, r"frames has dtype float64, which .isxd movies cannot store .*dtype=numpy.float32")
case("write_movie/casting_bogus", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, casting="bogus"), ValueError, r"casting must be one of .*'same_value'")
case("write_movie/casting_None", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, casting=None), ValueError, r"casting must be one of")
case("write_movie/dtype_int64", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, dtype=np.int64), (ValueError, TypeError), r"dtype.*(uint16|float32)")
case("write_movie/dtype_bogus", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, dtype="bogus"), (ValueError, TypeError), r"dtype must be numpy.uint16, numpy.float32 or numpy.uint8 .*got 'bogus'")
case("write_movie/frames_complex", lambda d, s: xd.write_movie(M16.astype(np.complex64), out(d), timing=T, spacing=S, dtype=np.float32), TypeError, r"frames .*complex")
case("write_movie/frames_str", lambda d, s: xd.write_movie(M16.astype(str), out(d), timing=T, spacing=S, dtype=np.uint16), TypeError, r"frames .*(<U|str)")
case("write_movie/frames_object", lambda d, s: xd.write_movie(M16.astype(object), out(d), timing=T, spacing=S, dtype=np.uint16), TypeError, r"frames .*object")
case("write_movie/frames_int64_no_dtype", lambda d, s: xd.write_movie(M16.astype(np.int64), out(d), timing=T, spacing=S), (TypeError, ValueError), r"frames .*int64.*dtype")
def masked(array: np.ndarray) -> np.ma.MaskedArray:
    """``array`` with its first entry masked (whose value would be stored, not the mask)."""
    mask = np.zeros(array.shape, bool)
    mask.flat[0] = True
    return np.ma.masked_array(array, mask=mask)


case("write_movie/masked_array", lambda d, s: xd.write_movie(masked(M16), out(d), timing=T, spacing=S), ValueError, r"frames is a masked array with 1 masked value\(s\); .isxd files hold no mask")
case("write_cell_set/masked_traces", lambda d, s: wcs(d, tr=masked(TR)), ValueError, r"traces is a masked array with 1 masked value")
case("write_movie/frames_2d", lambda d, s: xd.write_movie(M16[0], out(d), timing=T, spacing=S), ValueError, r"frames must have 3 dimensions")
case("write_movie/frames_4d", lambda d, s: xd.write_movie(M16[None], out(d), timing=T, spacing=S), ValueError, r"frames must have 3 dimensions")
case("write_movie/frames_list_ragged", lambda d, s: xd.write_movie([[[1, 2]], [[1]]], out(d)), ValueError, r"frames must be a rectangular array \(num_samples, rows, cols\) of numbers")
case("write_movie/zero_frames", lambda d, s: xd.write_movie(M16[:0], out(d)), ValueError, r"frames .*(0 frames|empty|at least one)")
case("write_movie/zero_row_frames", lambda d, s: xd.write_movie(M16[:, :0], out(d)), ValueError, r"frames .*(0|empty|at least one)")
case("write_movie/zero_col_frames", lambda d, s: xd.write_movie(M16[:, :, :0], out(d)), ValueError, r"frames .*(0|empty|at least one)")
case("write_movie/zero_frames/dask", lambda d, s: xd.write_movie(da.zeros((0, ROWS, COLS), dtype=np.uint16), out(d)), ValueError, r"frames .*(0 frames|empty|at least one)")
case("write_movie/unknown_chunks", lambda d, s: xd.write_movie(lazy(M16)[lazy(M16)[:, 0, 0] > 0], out(d)), ValueError, r"frames has unknown \(NaN\) chunk sizes")
case("write_movie/timing_num_samples", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=5), spacing=S), ValueError, r"timing.num_samples is 5")
case("write_movie/spacing_num_pixels", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=Spacing(num_pixels=(5, 4))), ValueError, r"frames has \(4, 5\) \(rows, cols\) pixels per frame but spacing.num_pixels is \(5, 4\); they must be equal")
case("write_movie/timing_dict", lambda d, s: xd.write_movie(M16, out(d), timing={"num_samples": 3}, spacing=S), TypeError, r"timing must be an isx_dask.Timing")
case("write_movie/timing_official_like", lambda d, s: xd.write_movie(M16, out(d), timing=(3, 0.05), spacing=S), TypeError, r"timing must be an isx_dask.Timing")
case("write_movie/spacing_tuple", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=(4, 5)), TypeError, r"spacing must be an isx_dask.Spacing")
case("write_movie/duration_over_64_bits", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=N, period=Duration(1, 10**20)), spacing=S), ValueError, r"denominator .*2\*\*63 - 1")
case("write_movie/duration_numerator_over_64_bits", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=N, period=Duration(10**20 + 1, 3)), spacing=S), ValueError, r"numerator .*2\*\*63 - 1")
case("write_movie/period_nan", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=N, period=float("nan")), spacing=S), ValueError, r"period must be a finite number, got nan")
case("write_movie/period_inf", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=N, period=float("inf")), spacing=S), ValueError, r"period must be a finite number, got inf")
case("write_movie/period_1e-30", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=N, period=1e-30), spacing=S), ValueError, r"period = 1e-30 cannot be stored")
case("write_movie/period_zero", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=N, period=Duration(0, 1)), spacing=S), ValueError, r"period must be > 0")
case("write_movie/period_negative", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=N, period=Duration(-1, 20)), spacing=S), ValueError, r"period must be > 0")
case("write_movie/start_over_64_bits", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=N, start=Time(Duration(1, 10**20))), spacing=S), ValueError, r"2\*\*63 - 1")
case("write_movie/utc_offset_huge", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=N, start=Time(Duration(0, 1), 10**20)), spacing=S), ValueError, r"utc_offset must be within")
case("write_movie/dropped_out_of_range", lambda d, s: xd.write_movie(M16, out(d), timing=Timing(num_samples=N, dropped=[7]), spacing=S), ValueError, r"dropped index 7 is out of range")
case("write_movie/pixel_size_nan", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=Spacing(num_pixels=(ROWS, COLS), pixel_size=float("nan"))), ValueError, r"pixel_size must be a finite number, got nan")
case("write_movie/pixel_size_inf", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=Spacing(num_pixels=(ROWS, COLS), pixel_size=(1, float("inf")))), ValueError, r"pixel_size must be a finite number, got inf")
case("write_movie/pixel_size_over_64_bits", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=Spacing(num_pixels=(ROWS, COLS), pixel_size=Fraction(1, 10**20))), ValueError, r"pixel_size .*2\*\*63 - 1")
case("write_movie/pixel_size_1e300", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=Spacing(num_pixels=(ROWS, COLS), pixel_size=1e300)), ValueError, r"pixel_size = 1e\+300 cannot be stored")
case("write_movie/pixel_size_negative", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=Spacing(num_pixels=(ROWS, COLS), pixel_size=-3)), ValueError, r"pixel_size must be > 0")
case("write_movie/top_left_nan", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=Spacing(num_pixels=(ROWS, COLS), top_left=(float("nan"), 0))), ValueError, r"top_left must be a finite number")
case("write_movie/extra_properties_nan", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, extra_properties={"a": float("nan")}), ValueError, r"extra_properties must hold only finite numbers")
case("write_movie/extra_properties_object", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, extra_properties={"a": object()}), (ValueError, TypeError), r"extra_properties must be JSON-serialisable")
case("write_movie/extra_properties_set", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, extra_properties={"a": {1, 2}}), (ValueError, TypeError), r"extra_properties must be JSON-serialisable")
case("write_movie/extra_properties_surrogate_value", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, extra_properties={"a": "\ud800"}), ValueError, r"extra_properties .*(surrogate|UTF-8)")
case("write_movie/extra_properties_surrogate_key", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, extra_properties={"\udcff": 1}), ValueError, r"extra_properties .*(surrogate|UTF-8)")
case("write_movie/extra_properties_surrogate/dask_resume", lambda d, s: xd.write_movie(lazy(M16), out(d), timing=T, spacing=S, extra_properties=["\ud800"], resume=True), ValueError, r"extra_properties .*(surrogate|UTF-8)")
case("write_movie/extra_properties_int_key", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, extra_properties={1: "x"}), ValueError, r"extra_properties has the key 1 \(int\); expected str keys only: JSON stores it as '1'")
case("write_cell_set/extra_properties_nested_none_key", lambda d, s: wcs(d, extra_properties={"a": [{None: 1}]}), ValueError, r"extra_properties\['a'\]\[0\] has the key None")
case("write_gpio_set/extra_properties_bool_key", lambda d, s: xd.write_gpio_set(GPIO, out(d), timing=T, channel_names=["a"], extra_properties={True: 1}), ValueError, r"extra_properties has the key True")
case("EventSet.write/extra_properties_float_key", lambda d, s: xd.EventSet.write(out(d), T, ["a"], extra_properties={0.5: 1}), ValueError, r"extra_properties has the key 0.5")
OVER64 = {"k": [0, 2**64]}  # the official reader would read 2**64 back as the double 1.84467440737096e+19
UNDER64 = {"k": -(2**63) - 1}
case("write_movie/extra_properties_int_2**64", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly")
case("write_movie/extra_properties_int_-2**63-1/dask", lambda d, s: xd.write_movie(lazy(M16), out(d), timing=T, spacing=S, extra_properties=UNDER64), ValueError, r"extra_properties\[\'k\'\] is -9223372036854775809, outside the integers the official reader holds exactly")
case("write_image/extra_properties_int_2**64", lambda d, s: xd.write_image(IMG, out(d), spacing=S, extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly")
case("create_movie/extra_properties_int_2**64", lambda d, s: xd.create_movie(out(d), timing=T, spacing=S, dtype=np.uint16, extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly")
case("Movie.write/extra_properties_int_2**64", lambda d, s: xd.Movie.write(out(d), T, S, np.uint16, extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly")
case("CellSet.write/extra_properties_int_-2**63-1", lambda d, s: xd.CellSet.write(out(d), T, S, extra_properties=UNDER64), ValueError, r"extra_properties\[\'k\'\] is -9223372036854775809, outside the integers the official reader holds exactly")
case("EventSet.write/extra_properties_int_2**64", lambda d, s: xd.EventSet.write(out(d), T, ["a"], extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly")
case("VesselSet.write/extra_properties_int_2**64", lambda d, s: xd.VesselSet.write(out(d), T, S, "vessel diameter", extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly")
case("write_cell_set/extra_properties_int_2**64", lambda d, s: xd.write_cell_set(FP, TR, out(d), timing=T, spacing=S, extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly")
case("write_event_set/extra_properties_int_2**64", lambda d, s: xd.write_event_set(OFFS, AMPS, out(d), timing=T, extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly")
case("write_event_set_dense/extra_properties_int_2**64", lambda d, s: xd.write_event_set_dense(TR, out(d), timing=T, extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly")
case("write_gpio_set/extra_properties_int_-2**63-1", lambda d, s: xd.write_gpio_set(GPIO, out(d), timing=T, channel_names=["a"], extra_properties=UNDER64), ValueError, r"extra_properties\[\'k\'\] is -9223372036854775809, outside the integers the official reader holds exactly")
case("write_vessel_set/extra_properties_int_2**64", lambda d, s: xd.write_vessel_set(IMG, LINES, TR, out(d), vessel_type="vessel diameter", center_traces=TR, timing=T, spacing=S, extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly")
case("zarr_to_isxd/extra_properties_int_2**64", lambda d, s: xd.zarr_to_isxd(s, out(d), period=0.05, pixel_size=2, extra_properties=OVER64), ValueError, r"extra_properties\[\'k\'\]\[1\] is 18446744073709551616, outside the integers the official reader holds exactly", prepare=make_zarr(M16))
case("write_movie/metadata_from_missing", lambda d, s: xd.write_movie(M16, out(d), metadata_from=d / "missing.isxd"), FileNotFoundError, r"metadata_from .*missing.isxd.* does not exist")
case("write_movie/metadata_from_text", lambda d, s: xd.write_movie(M16, out(d), metadata_from=s), xd.IsxdFormatError, r"metadata_from .*notes.isxd.* is not a readable .isxd file", prepare=make_text)
case("write_movie/metadata_from_wrong_shape", lambda d, s: xd.write_movie(M16[:, :2], out(d), metadata_from=s), ValueError, r"spacing.num_pixels", prepare=make_movie)
case("write_movie/misspelled_timming", lambda d, s: xd.write_movie(M16, out(d), timming=T), TypeError, r"timming")
case("write_movie/misplaced_period", lambda d, s: xd.write_movie(M16, out(d), period=0.05), TypeError, r"period")
case("write_movie/misplaced_pixel_size", lambda d, s: xd.write_movie(M16, out(d), pixel_size=2), TypeError, r"pixel_size")
case("write_movie/misplaced_scheduler", lambda d, s: xd.write_movie(M16, out(d), scheduler="threads"), TypeError, r"scheduler")
case("write_movie/timing_positional", lambda d, s: xd.write_movie(M16, out(d), T), TypeError, r"positional")
case("write_movie/overwrite_str", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, overwrite="yes"), TypeError, r"overwrite must be True or False")
case("write_movie/overwrite_int", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, overwrite=1), TypeError, r"overwrite must be True or False", existing=True)
case("write_movie/compute_none", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, compute=None), TypeError, r"compute must be True or False")
case("write_movie/fsync_str", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, fsync="no"), TypeError, r"fsync must be True or False")
case("write_movie/resume_int", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, resume=0), TypeError, r"resume must be True or False")
case("write_movie/reserve_bogus", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, reserve="sometimes"), ValueError, r"reserve must be one of .*'auto'")
case("write_movie/reserve_bool", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, reserve=True), ValueError, r"reserve must be one of")
case("write_movie/write_method_bogus", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, write_method="magic"), ValueError, r"write_method must be one of .*'auto'")
case("write_movie/scheduler_bogus", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\] is 'bogus'.*threads")
case("write_movie/scheduler_bogus/dask", lambda d, s: xd.write_movie(lazy(M16), out(d), timing=T, spacing=S, compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\] is 'bogus'")
case("write_movie/scheduler_bogus/compute_false", lambda d, s: xd.write_movie(lazy(M16), out(d), timing=T, spacing=S, compute=False, compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\]")
case("write_movie/compute_kwargs_misspelled_schedular", lambda d, s: xd.write_movie(lazy(M16), out(d), timing=T, spacing=S, compute_kwargs={"schedular": "processes"}), ValueError, r"compute_kwargs has the key 'schedular'.*did you mean 'scheduler'")
case("write_movie/compute_kwargs_capitalised_Scheduler", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, compute_kwargs={"Scheduler": "threads"}), ValueError, r"compute_kwargs has the key 'Scheduler'")
case("write_movie/compute_kwargs_scheduler_int", lambda d, s: xd.write_movie(lazy(M16), out(d), timing=T, spacing=S, compute_kwargs={"scheduler": 5}), TypeError, r"compute_kwargs\['scheduler'\] must be a scheduler name")
case("write_movie/compute_kwargs_scheduler_address", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, compute_kwargs={"scheduler": "tcp://127.0.0.1:1"}), ValueError, r"compute_kwargs\['scheduler'\] is the address .*distributed.Client")
case("write_movie/compute_kwargs_num_workers_zero", lambda d, s: xd.write_movie(lazy(M16), out(d), timing=T, spacing=S, compute_kwargs={"num_workers": 0}), ValueError, r"compute_kwargs\['num_workers'\] must be a positive integer")
case("write_movie/compute_kwargs_num_workers_str", lambda d, s: xd.write_movie(lazy(M16), out(d), timing=T, spacing=S, compute_kwargs={"num_workers": "4"}), TypeError, r"compute_kwargs\['num_workers'\] must be a positive integer")
case("write_cell_set/compute_kwargs_misspelled_num_worker", lambda d, s: wcs(d, compute_kwargs={"num_worker": 2}), ValueError, r"did you mean 'num_workers'")
case("zarr_to_isxd/compute_kwargs_schedular", lambda d, s: xd.zarr_to_isxd(s, out(d), compute_kwargs={"schedular": "threads"}), ValueError, r"compute_kwargs has the key 'schedular'", prepare=make_zarr(M16))
case("isxd_to_zarr/compute_kwargs_schedular", lambda d, s: xd.isxd_to_zarr(s, d / "t.zarr", compute_kwargs={"schedular": "threads"}), ValueError, r"compute_kwargs has the key 'schedular'", prepare=make_movie)
case("write_movie/compute_kwargs_list", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, compute_kwargs=["threads"]), TypeError, r"compute_kwargs must be a dict")
case("write_movie/compute_kwargs_int_keys", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, compute_kwargs={1: 2}), TypeError, r"compute_kwargs must be a dict")
case("write_movie/compute_kwargs_str", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, compute_kwargs="threads"), TypeError, r"compute_kwargs must be a dict")
case("write_movie/path_no_isxd", lambda d, s: xd.write_movie(M16, d / "out.tif", timing=T, spacing=S), ValueError, r"path .*must end with '.isxd'")
case("write_movie/path_no_extension", lambda d, s: xd.write_movie(M16, d / "out", timing=T, spacing=S), ValueError, r"path .*must end with '.isxd'")
case("write_movie/path_missing_parent", lambda d, s: xd.write_movie(M16, d / "no" / "out.isxd", timing=T, spacing=S), FileNotFoundError, r"path .*parent directory .* does not exist")
case("write_movie/path_is_directory", lambda d, s: xd.write_movie(M16, s, timing=T, spacing=S), IsADirectoryError, r"path .* is a directory", prepare=lambda d: (d / "folder.isxd").mkdir() or d / "folder.isxd")
case("write_movie/path_exists", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S), FileExistsError, r"path .* already exists; pass overwrite=True", existing=True)
case("write_movie/path_exists/dask", lambda d, s: xd.write_movie(lazy(M16), out(d), timing=T, spacing=S, compute=False), FileExistsError, r"overwrite=True", existing=True)
case("write_movie/path_None", lambda d, s: xd.write_movie(M16, None, timing=T, spacing=S), TypeError, r"path must be")
case("write_movie/path_int", lambda d, s: xd.write_movie(M16, 3, timing=T, spacing=S), TypeError, r"path must be")
case("write_movie/path_nul", lambda d, s: xd.write_movie(M16, str(d / "o\x00ut.isxd"), timing=T, spacing=S), ValueError, r"path .*NUL")

# ==== write_image ====================================================================================
IM = M16[0]
case("write_image/3d", lambda d, s: xd.write_image(M16, out(d), spacing=S), ValueError, r"image must have 2 dimensions")
case("write_image/1d", lambda d, s: xd.write_image(IM[0], out(d)), ValueError, r"image must have 2 dimensions")
case("write_image/0x0", lambda d, s: xd.write_image(np.zeros((0, 0), np.uint16), out(d)), ValueError, r"image .*(0|empty|at least one)")
case("write_image/0_rows", lambda d, s: xd.write_image(np.zeros((0, 5), np.float32), out(d)), ValueError, r"image .*(0|empty|at least one)")
case("write_image/cast_300_uint8", lambda d, s: xd.write_image(full((ROWS, COLS), 300, np.uint16), out(d), spacing=S, dtype=np.uint8), ValueError, r"image .*uint8")
case("write_image/cast_0.5_uint16", lambda d, s: xd.write_image(full((ROWS, COLS), 0.5, np.float64), out(d), spacing=S, dtype=np.uint16), ValueError, r"image .*uint16")
case("write_image/cast_1e300_float32/dask", lambda d, s: xd.write_image(da.from_array(full((ROWS, COLS), 1e300, np.float64)), out(d), spacing=S, dtype=np.float32), ValueError, r"image .*float32", late=True)
case("write_image/spacing_mismatch", lambda d, s: xd.write_image(IM, out(d), spacing=Spacing(num_pixels=(5, 5))), ValueError, r"spacing.num_pixels")
case("write_image/timing_given", lambda d, s: xd.write_image(IM, out(d), spacing=S, timing=T), TypeError, r"timing")
case("write_image/misspelled_spaceing", lambda d, s: xd.write_image(IM, out(d), spaceing=S), TypeError, r"spaceing")
case("write_image/complex", lambda d, s: xd.write_image(IM.astype(np.complex128), out(d), spacing=S, dtype=np.float32), TypeError, r"image .*complex")
case("write_image/path_exists", lambda d, s: xd.write_image(IM, out(d), spacing=S), FileExistsError, r"already exists", existing=True)
case("write_image/path_no_isxd", lambda d, s: xd.write_image(IM, d / "im.png", spacing=S), ValueError, r"must end with '.isxd'")
case("write_image/scheduler_bogus", lambda d, s: xd.write_image(IM, out(d), spacing=S, compute_kwargs={"scheduler": "bogus"}), ValueError, r"scheduler")

# ==== write_cell_set ================================================================================
def wcs(d: Path, fp: Any = FP, tr: Any = TR, **kw: Any) -> Any:
    kw.setdefault("timing", T)
    kw.setdefault("spacing", S)
    return xd.write_cell_set(fp, tr, out(d), **kw)


case("write_cell_set/footprints_2d", lambda d, s: wcs(d, fp=FP[0]), ValueError, r"footprints must have 3 dimensions")
case("write_cell_set/traces_1d", lambda d, s: wcs(d, tr=TR[0]), ValueError, r"traces must have 2 dimensions")
case("write_cell_set/cell_count_mismatch", lambda d, s: wcs(d, tr=TR[:1]), ValueError, r"(footprints|traces).*(2|1) cells")
case("write_cell_set/zero_samples", lambda d, s: wcs(d, tr=TR[:, :0], timing=Timing(num_samples=0)), ValueError, r"traces .*(0 samples|empty|at least one)")
case("write_cell_set/zero_row_footprints", lambda d, s: wcs(d, fp=FP[:, :0], spacing=None), ValueError, r"footprints .*(0|empty|at least one)")
case("write_cell_set/timing_mismatch", lambda d, s: wcs(d, timing=Timing(num_samples=4)), ValueError, r"timing.num_samples is 4")
case("write_cell_set/spacing_mismatch", lambda d, s: wcs(d, spacing=Spacing(num_pixels=(2, 2))), ValueError, r"spacing.num_pixels")
case("write_cell_set/names_nul", lambda d, s: wcs(d, cell_names=["C0", "C\x001"]), ValueError, r"cell_names\[1\] .*NUL")
case("write_cell_set/names_too_long", lambda d, s: wcs(d, cell_names=["C0", "é" * 128]), ValueError, r"cell_names\[1\] is 256 UTF-8 bytes long; expected at most 255")
case("write_cell_set/names_surrogate", lambda d, s: wcs(d, cell_names=["C0", "\ud800"]), ValueError, r"cell_names\[1\]")
case("write_cell_set/names_count", lambda d, s: wcs(d, cell_names=["C0"]), ValueError, r"cell_names has 1 names but the data has 2 cells")
case("write_cell_set/names_str", lambda d, s: wcs(d, cell_names="C0"), TypeError, r"cell_names must be a sequence of str")
case("write_cell_set/names_int", lambda d, s: wcs(d, cell_names=["C0", 1]), TypeError, r"cell_names\[1\] must be a str")
case("write_cell_set/old_keyword_names", lambda d, s: wcs(d, names=["a", "b"]), TypeError, r"names")
case("write_cell_set/misspelled_statuse", lambda d, s: wcs(d, statuse=["accepted", "rejected"]), TypeError, r"statuse")
case("write_cell_set/status_bogus", lambda d, s: wcs(d, statuses=["accepted", "maybe"]), ValueError, r"statuses\[1\] must be 'accepted', 'undecided' or 'rejected'.*'maybe'")
case("write_cell_set/status_capitalised", lambda d, s: wcs(d, statuses="Accepted"), ValueError, r"statuses must be 'accepted'")
case("write_cell_set/status_int", lambda d, s: wcs(d, statuses=[1, 0]), ValueError, r"statuses\[0\] must be")
case("write_cell_set/status_count", lambda d, s: wcs(d, statuses=["accepted"]), ValueError, r"statuses has 1 entries but there are 2 cells")
case("write_cell_set/status_number", lambda d, s: wcs(d, statuses=5), TypeError, r"statuses must be a sequence")
case("write_cell_set/traces_1e300", lambda d, s: wcs(d, tr=full((2, N), 1e300, np.float64)), ValueError, r"traces .*float32")
case("write_cell_set/traces_1e300/dask", lambda d, s: wcs(d, tr=lazy(full((2, N), 1e300, np.float64))), ValueError, r"traces .*float32", late=True)
case("write_cell_set/footprints_1e300", lambda d, s: wcs(d, fp=full((2, ROWS, COLS), -1e300, np.float64)), ValueError, r"footprints .*float32")
case("write_cell_set/footprints_complex", lambda d, s: wcs(d, fp=FP.astype(np.complex64)), TypeError, r"footprints .*complex")
case("write_cell_set/traces_str", lambda d, s: wcs(d, tr=TR.astype(str)), TypeError, r"traces .*(<U|str)")
case("write_cell_set/casting_bogus", lambda d, s: wcs(d, casting="nope"), ValueError, r"casting must be one of")
case("write_cell_set/scheduler_bogus", lambda d, s: wcs(d, compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\]")
case("write_cell_set/reserve_bogus", lambda d, s: wcs(d, reserve="x"), ValueError, r"reserve must be one of")
case("write_cell_set/extra_properties_surrogate", lambda d, s: wcs(d, extra_properties={"a": ["\udfff"]}), ValueError, r"extra_properties")
case("write_cell_set/path_exists", lambda d, s: wcs(d), FileExistsError, r"already exists", existing=True)
case("write_cell_set/metadata_from_text", lambda d, s: wcs(d, timing=None, spacing=None, metadata_from=s), xd.IsxdFormatError, r"notes.isxd", prepare=make_text)

def deep_list(depth: int = 20000) -> list[Any]:
    """A list nested ``depth`` levels deep (built without recursion)."""
    top: list[Any] = []
    cur = top
    for _ in range(depth):
        nxt: list[Any] = []
        cur.append(nxt)
        cur = nxt
    return top


case("write_cell_set/names_set", lambda d, s: wcs(d, cell_names={"C0", "C1"}), TypeError, r"cell_names must be a sequence of str \(a list or tuple, in item order\)")
case("write_cell_set/names_dict", lambda d, s: wcs(d, cell_names={"C0": 0, "C1": 1}), TypeError, r"cell_names must be a sequence of str")
case("write_cell_set/statuses_set", lambda d, s: wcs(d, statuses={"accepted", "rejected"}), TypeError, r"statuses must be a sequence")
case("write_cell_set/statuses_dict", lambda d, s: wcs(d, statuses={"C0": "accepted", "C1": "rejected"}), TypeError, r"statuses must be a sequence")
case("write_cell_set/extra_properties_deep", lambda d, s: wcs(d, extra_properties=deep_list()), ValueError, r"extra_properties is nested too deeply")
case("write_movie/extra_properties_deep_dict", lambda d, s: xd.write_movie(M16, out(d), timing=T, spacing=S, extra_properties={"a": deep_list()}), ValueError, r"extra_properties is nested too deeply")
case("CellSet.write/extra_properties_deep", lambda d, s: xd.CellSet.write(out(d), T, S, extra_properties=deep_list()), ValueError, r"extra_properties is nested too deeply")
case("write_gpio_set/extra_properties_deep", lambda d, s: wgs(d, extra_properties=deep_list()), ValueError, r"extra_properties is nested too deeply")
case("EventSet.write/extra_properties_deep", lambda d, s: xd.EventSet.write(out(d), T, ["a"], extra_properties=deep_list()), ValueError, r"extra_properties is nested too deeply")
case("write_event_set_dense/names_set", lambda d, s: xd.write_event_set_dense(TR, out(d), timing=T, cell_names={"a", "b"}), TypeError, r"cell_names must be a")
case("write_vessel_set/names_set", lambda d, s: wvs(d, vessel_names={"V0", "V1"}), TypeError, r"vessel_names must be a sequence")
case("write_vessel_set/statuses_set", lambda d, s: wvs(d, statuses={"accepted", "rejected"}), TypeError, r"statuses must be a sequence")


# ==== write_event_set ===============================================================================
def wes(d: Path, offs: Any = OFFS, amps: Any = AMPS, **kw: Any) -> Any:
    kw.setdefault("timing", T)
    kw.setdefault("cell_names", ["C0", "C1"])
    return xd.write_event_set(offs, amps, out(d), **kw)


case("write_event_set/cells_mismatch", lambda d, s: wes(d, amps=AMPS[:1]), ValueError, r"(offsets|amplitudes).*(2|1)")
case("write_event_set/events_mismatch", lambda d, s: wes(d, amps=[[1.0], [3.0]]), ValueError, r"amplitudes\[0\]|offsets\[0\]")
case("write_event_set/negative_offset", lambda d, s: wes(d, offs=[[-1, 0], [0]]), ValueError, r"offsets.*-1")
case("write_event_set/offset_past_end", lambda d, s: wes(d, offs=[[0, 10**9], [0]]), ValueError, r"offsets.*1000000000")
case("write_event_set/offset_fraction", lambda d, s: wes(d, offs=[[0.5, 1], [0]]), (ValueError, TypeError), r"offsets.*(whole|integer)")
case("write_event_set/offset_nan", lambda d, s: wes(d, offs=[[float("nan"), 1], [0]]), (ValueError, TypeError), r"offsets")
case("write_event_set/offset_str", lambda d, s: wes(d, offs=[["0", "1"], [0]]), TypeError, r"offsets")
case("write_event_set/amplitude_1e300", lambda d, s: wes(d, amps=[[1e300, 1.0], [1.0]]), ValueError, r"amplitudes.*float32")
case("write_event_set/amplitude_int_2**24+1", lambda d, s: wes(d, amps=[np.array([1, 2**24 + 1]), [1.0]]), ValueError, r"amplitudes\[0\] holds 1 value\(s\) that float32 cannot hold exactly .*at index \(1,\).*casting='unsafe'")
case("write_event_set/casting_safe_int", lambda d, s: wes(d, amps=[np.array([1, 2]), [1.0]], casting="safe"), TypeError, r"amplitudes\[0\] has dtype int64, which cannot be cast to float32 under casting='safe'")
case("write_event_set/casting_bogus", lambda d, s: wes(d, casting="lossy"), ValueError, r"casting must be one of")
case("write_event_set/amplitude_str", lambda d, s: wes(d, amps=[["a", "b"], ["c"]]), TypeError, r"amplitudes")
case("write_event_set/duplicate_names", lambda d, s: wes(d, cell_names=["C0", "C0"]), ValueError, r"cell_names must be unique.*'C0'")
case("write_event_set/names_nul", lambda d, s: wes(d, cell_names=["C0", "\x00"]), ValueError, r"cell_names\[1\].*NUL")
case("write_event_set/names_too_long", lambda d, s: wes(d, cell_names=["C0", "x" * 256]), ValueError, r"cell_names\[1\] is 256 UTF-8 bytes")
case("write_event_set/names_count", lambda d, s: wes(d, cell_names=["C0", "C1", "C2"]), ValueError, r"cell_names has 3 names")
case("write_event_set/names_str", lambda d, s: wes(d, cell_names="C0C1"), TypeError, r"cell_names must be a (sequence|list or tuple)")
case("write_event_set/end_time_bogus", lambda d, s: wes(d, end_time="late"), ValueError, r"end_time")
case("write_event_set/timing_type", lambda d, s: wes(d, timing=0.05), TypeError, r"timing must be an isx_dask.Timing")
case("write_event_set/misspelled_cell_name", lambda d, s: wes(d, cell_name=["a", "b"]), TypeError, r"cell_name")
case("write_event_set/spacing_given", lambda d, s: wes(d, spacing=S), TypeError, r"spacing")
case("write_event_set/scheduler_bogus", lambda d, s: wes(d, compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\]")
case("write_event_set/path_exists", lambda d, s: wes(d), FileExistsError, r"already exists", existing=True)
case("write_event_set/extra_properties_surrogate", lambda d, s: wes(d, extra_properties="\ud800"), ValueError, r"extra_properties")

BIG_INT = np.array([[0, 2**24 + 1, 0], [0, 0, 0]], dtype=np.int64)  # float32 would store 16777216
# ==== write_event_set_dense =========================================================================
def wesd(d: Path, amps: Any = TR, **kw: Any) -> Any:
    kw.setdefault("timing", T)
    kw.setdefault("cell_names", ["C0", "C1"])
    return xd.write_event_set_dense(amps, out(d), **kw)


case("write_event_set_dense/1d", lambda d, s: wesd(d, amps=TR[0]), ValueError, r"amplitudes must have 2 dimensions")
case("write_event_set_dense/3d", lambda d, s: wesd(d, amps=FP), ValueError, r"amplitudes must have 2 dimensions")
case("write_event_set_dense/complex", lambda d, s: wesd(d, amps=TR.astype(np.complex64)), TypeError, r"amplitudes .*complex")
case("write_event_set_dense/str", lambda d, s: wesd(d, amps=TR.astype(str)), TypeError, r"amplitudes .*(<U|str)")
case("write_event_set_dense/1e300", lambda d, s: wesd(d, amps=full((2, N), 1e300, np.float64)), ValueError, r"amplitudes .*float32")
case("write_event_set_dense/1e300/dask", lambda d, s: wesd(d, amps=lazy(full((2, N), 1e300, np.float64))), ValueError, r"amplitudes .*float32")
case("write_event_set_dense/int_2**24+1", lambda d, s: wesd(d, amps=BIG_INT), ValueError, r"amplitudes holds 1 value\(s\) .*float32 cannot hold exactly .*at index \(0, 1\).*casting='unsafe'")
case("write_event_set_dense/int_2**24+1/dask", lambda d, s: wesd(d, amps=lazy(BIG_INT)), ValueError, r"amplitudes holds 1 value\(s\) in the chunk starting at index \(0, 0\) that float32 cannot hold exactly .*at index \(0, 1\)")
case("write_event_set_dense/casting_safe_int", lambda d, s: wesd(d, amps=BIG_INT, casting="safe"), TypeError, r"amplitudes has dtype int64, which cannot be cast to float32 under casting='safe'")
case("write_event_set_dense/casting_bogus", lambda d, s: wesd(d, casting="lossy"), ValueError, r"casting must be one of")
case("write_event_set_dense/duplicate_names", lambda d, s: wesd(d, cell_names=["a", "a"]), ValueError, r"cell_names must be unique")
case("write_event_set_dense/names_count", lambda d, s: wesd(d, cell_names=["a"]), ValueError, r"cell_names has 1 names")
case("write_event_set_dense/timing_mismatch", lambda d, s: wesd(d, timing=Timing(num_samples=9)), ValueError, r"num_samples")
case("write_event_set_dense/period_sub_microsecond", lambda d, s: wesd(d, timing=Timing(num_samples=N, period=Duration(1, 10**7))), ValueError, r"period.*(1 us|microsecond)")
case("write_event_set_dense/end_time_bogus", lambda d, s: wesd(d, end_time=3), ValueError, r"end_time")
case("write_event_set_dense/scheduler_bogus", lambda d, s: wesd(d, compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\]")
case("write_event_set_dense/scheduler_bogus/dask", lambda d, s: wesd(d, amps=lazy(TR), compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\]")
case("write_event_set_dense/resume_str", lambda d, s: wesd(d, resume="yes"), TypeError, r"resume must be True or False")
case("write_event_set_dense/path_exists", lambda d, s: wesd(d), FileExistsError, r"already exists", existing=True)
case("write_event_set_dense/path_dir_missing", lambda d, s: xd.write_event_set_dense(TR, d / "x" / "e.isxd", timing=T, cell_names=["a", "b"]), FileNotFoundError, r"parent directory")

# ==== write_vessel_set ==============================================================================
def wvs(d: Path, image: Any = IMG, lines: Any = LINES, traces: Any = TR, **kw: Any) -> Any:
    kw.setdefault("timing", T)
    kw.setdefault("spacing", S)
    kw.setdefault("vessel_type", "vessel diameter")
    if kw["vessel_type"] == "vessel diameter":
        kw.setdefault("center_traces", TR)
    return xd.write_vessel_set(image, lines, traces, out(d), **kw)


case("write_vessel_set/vessel_type_bogus", lambda d, s: wvs(d, vessel_type="arteries"), ValueError, r"vessel_type.*'vessel diameter'")
case("write_vessel_set/vessel_type_missing", lambda d, s: xd.write_vessel_set(IMG, LINES, TR, out(d), timing=T, spacing=S), TypeError, r"vessel_type")
case("write_vessel_set/lines_shape", lambda d, s: wvs(d, lines=np.zeros((2, 3, 2), int)), ValueError, r"lines.*\(2, 2, 2\)|lines.*shape")
case("write_vessel_set/lines_count", lambda d, s: wvs(d, lines=LINES[:1]), ValueError, r"lines")
case("write_vessel_set/lines_fraction", lambda d, s: wvs(d, lines=LINES + 0.5), (ValueError, TypeError), r"lines")
case("write_vessel_set/line_x_is_cols", lambda d, s: wvs(d, lines=np.array([[[0, 0], [1, 1]], [[2, 2], [COLS, 3]]])), ValueError, r"lines\[1\] \(vessel 1\) has point 1 at \(x=5, y=3\), outside the projection image .*0 <= x < 5")
case("write_vessel_set/line_y_negative", lambda d, s: wvs(d, lines=np.array([[[0, -1], [1, 1]], [[2, 2], [3, 3]]])), ValueError, r"lines\[0\] \(vessel 0\) has point 0 at \(x=0, y=-1\), outside .*0 <= y < 4")
case("write_vessel_set/line_x_y_swapped", lambda d, s: wvs(d, lines=np.array([[[0, 0], [1, 1]], [[2, 2], [1, 4]]])), ValueError, r"lines\[1\] .*\(x=1, y=4\), outside .*y is the row")
case("write_vessel_set/line_rbc_outside", lambda d, s: wvs(d, lines=np.array([[[0, 0], [1, 0], [1, 1], [0, 9]], [[0, 0]] * 4]), vessel_type="rbc velocity", direction_traces=TR), ValueError, r"lines\[0\] \(vessel 0\) has point 3 at \(x=0, y=9\), outside")
case("write_vessel_set/image_3d", lambda d, s: wvs(d, image=M16.astype(np.float32)), ValueError, r"image must have 2 dimensions")
case("write_vessel_set/image_0x0", lambda d, s: wvs(d, image=np.zeros((0, 0), np.float32), spacing=None), ValueError, r"image .*(0|empty|at least one)")
case("write_vessel_set/traces_count", lambda d, s: wvs(d, traces=TR[:1]), ValueError, r"traces")
case("write_vessel_set/zero_samples", lambda d, s: wvs(d, traces=TR[:, :0], center_traces=TR[:, :0], timing=Timing(num_samples=0)), ValueError, r"traces .*(0 samples|empty|at least one)")
case("write_vessel_set/traces_1e300", lambda d, s: wvs(d, traces=full((2, N), 1e300, np.float64)), ValueError, r"traces .*float32")
case("write_vessel_set/direction_for_diameter", lambda d, s: wvs(d, direction_traces=TR), ValueError, r"direction_traces")
case("write_vessel_set/rbc_without_direction", lambda d, s: wvs(d, lines=RBC_LINES, vessel_type="rbc velocity"), ValueError, r"direction_traces")
case("write_vessel_set/names_nul", lambda d, s: wvs(d, vessel_names=["V0", "V\x00"]), ValueError, r"vessel_names\[1\].*NUL")
case("write_vessel_set/names_count", lambda d, s: wvs(d, vessel_names=["V0"]), ValueError, r"vessel_names has 1 names")
case("write_vessel_set/status_bogus", lambda d, s: wvs(d, statuses=["accepted", "nope"]), ValueError, r"statuses\[1\] must be 'accepted'")
case("write_vessel_set/misspelled_vessel_name", lambda d, s: wvs(d, vessel_name=["a", "b"]), TypeError, r"vessel_name")
case("write_vessel_set/path_first_order", lambda d, s: xd.write_vessel_set(out(d), image=IMG, lines=LINES, traces=TR, vessel_type="vessel diameter"), TypeError, r"image|lines|traces|path")
case("write_vessel_set/scheduler_bogus", lambda d, s: wvs(d, compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\]")
case("write_vessel_set/path_exists", lambda d, s: wvs(d), FileExistsError, r"already exists", existing=True)

# ==== write_gpio_set / write_imu_set ================================================================
def wgs(d: Path, data: Any = GPIO, **kw: Any) -> Any:
    kw.setdefault("timing", T)
    kw.setdefault("channel_names", ["ttl"])
    return xd.write_gpio_set(data, out(d), **kw)


case("write_gpio_set/no_channel_names", lambda d, s: xd.write_gpio_set(GPIO, out(d), timing=T), TypeError, r"channel_names")
case("write_gpio_set/no_timing", lambda d, s: xd.write_gpio_set(GPIO, out(d), channel_names=["a"]), TypeError, r"timing")
case("write_gpio_set/names_duplicate", lambda d, s: wgs(d, data=GPIO * 2, channel_names=["a", "a"]), ValueError, r"channel_names.*unique")
case("write_gpio_set/names_nul", lambda d, s: wgs(d, channel_names=["a\x00"]), ValueError, r"channel_names\[0\].*NUL")
case("write_gpio_set/names_too_long", lambda d, s: wgs(d, channel_names=["y" * 300]), ValueError, r"channel_names\[0\].*255")
case("write_gpio_set/names_count", lambda d, s: wgs(d, channel_names=["a", "b"]), ValueError, r"channel_names")
case("write_gpio_set/negative_offset", lambda d, s: wgs(d, data=[([-5, 0], [1.0, 0.0])]), ValueError, r"offsets.*-5")
case("write_gpio_set/value_int_2**24+1", lambda d, s: wgs(d, data=[([0, 1], np.array([0, 2**24 + 1]))]), ValueError, r"data\[0\] values holds 1 value\(s\) that float32 cannot hold exactly .*at index \(1,\)")
case("write_gpio_set/dense_int_2**24+1", lambda d, s: wgs(d, data=BIG_INT[:1], timing=Timing(num_samples=3)), ValueError, r"data holds 1 value\(s\) .*float32 cannot hold exactly .*at index \(0, 1\)")
case("write_gpio_set/dense_int_2**24+1/dask", lambda d, s: wgs(d, data=lazy(BIG_INT), channel_names=["a", "b"], timing=Timing(num_samples=3)), ValueError, r"data holds 1 value\(s\) in the chunk starting at index \(0, 0\) that float32 cannot hold exactly .*at index \(0, 1\)")
case("write_imu_set/casting_safe_int", lambda d, s: xd.write_imu_set(np.zeros((9, N), np.int64), out(d), timing=T, casting="safe"), TypeError, r"data has dtype int64, which cannot be cast to float32 under casting='safe'")
case("write_gpio_set/offset_past_end", lambda d, s: wgs(d, data=[([0, 10**8], [1.0, 0.0])]), ValueError, r"offsets.*100000000")
case("write_gpio_set/offset_fraction", lambda d, s: wgs(d, data=[([0.5, 1], [1.0, 0.0])]), (ValueError, TypeError), r"offsets.*(whole|integer)")
case("write_gpio_set/offset_duplicate", lambda d, s: wgs(d, data=[([7, 7], [1.0, 0.0])]), ValueError, r"data\[0\] offsets repeat 7 us")
case("write_gpio_set/values_nan", lambda d, s: wgs(d, data=[([0, 1], [float("nan"), 0.0])]), ValueError, r"values.*finite")
case("write_gpio_set/values_1e300", lambda d, s: wgs(d, data=[([0, 1], [1e300, 0.0])]), ValueError, r"values.*(float32|finite)")
case("write_gpio_set/values_length", lambda d, s: wgs(d, data=[([0, 1], [1.0])]), ValueError, r"values|offsets")
case("write_gpio_set/signal_type_bogus", lambda d, s: wgs(d, signal_types=["analog"]), ValueError, r"signal_types\[0\].*'sparse'")
case("write_gpio_set/timing_dropped", lambda d, s: wgs(d, timing=Timing(num_samples=N, dropped=[1])), ValueError, r"timing.*dropped")
case("write_gpio_set/dense_sub_microsecond", lambda d, s: wgs(d, data=TR[:1], timing=Timing(num_samples=N, period=Duration(1, 10**7))), ValueError, r"period.*(1 us|microsecond)")
case("write_gpio_set/dense_nan", lambda d, s: wgs(d, data=np.array([[0.0, np.nan, 1.0]])), ValueError, r"(data|values).*finite")
case("write_gpio_set/dense_3d", lambda d, s: wgs(d, data=FP), ValueError, r"data")
case("write_gpio_set/reserve_not_an_option", lambda d, s: wgs(d, reserve="auto"), TypeError, r"reserve")
case("write_gpio_set/misspelled_channel_name", lambda d, s: wgs(d, channel_name=["a"]), TypeError, r"channel_name")
case("write_gpio_set/scheduler_bogus", lambda d, s: wgs(d, compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\]")
case("write_gpio_set/extra_properties_surrogate", lambda d, s: wgs(d, extra_properties={"\ud800": 0}), ValueError, r"extra_properties")
case("write_gpio_set/path_exists", lambda d, s: wgs(d), FileExistsError, r"already exists", existing=True)
case("write_imu_set/eight_channels", lambda d, s: xd.write_imu_set(np.zeros((8, N), np.float32), out(d), timing=T), ValueError, r"(nine|9) channels")
case("write_imu_set/names_count", lambda d, s: xd.write_imu_set(np.zeros((9, N), np.float32), out(d), timing=T, channel_names=["a"]), ValueError, r"channel_names")
case("write_imu_set/no_timing", lambda d, s: xd.write_imu_set(np.zeros((9, N), np.float32), out(d)), TypeError, r"timing is required")
case("write_imu_set/path_no_isxd", lambda d, s: xd.write_imu_set(np.zeros((9, N), np.float32), d / "imu.csv", timing=T), ValueError, r"must end with '.isxd'")

# ==== create_movie / write_movie_region / commit_movie ==============================================
def template(dtype: Any = np.uint8):
    def prepare(d: Path) -> Path:
        return Path(xd.create_movie(out(d), timing=T, spacing=S, dtype=dtype))

    return prepare


def drop_template(path: Any) -> None:
    with contextlib.suppress(Exception):
        xd.discard_movie(path)


case("create_movie/dtype_int64", lambda d, s: xd.create_movie(out(d), timing=T, spacing=S, dtype=np.int64), (ValueError, TypeError), r"dtype")
case("create_movie/zero_frames", lambda d, s: xd.create_movie(out(d), timing=Timing(num_samples=0), spacing=S, dtype=np.uint16), ValueError, r"(timing|num_samples).*(0|empty|at least one)")
case("create_movie/zero_rows", lambda d, s: xd.create_movie(out(d), timing=T, spacing=Spacing(num_pixels=(0, 5)), dtype=np.uint16), ValueError, r"(spacing|num_pixels).*(0|empty|at least one)")
case("create_movie/timing_missing", lambda d, s: xd.create_movie(out(d), spacing=S, dtype=np.uint16), TypeError, r"timing")
case("create_movie/timing_type", lambda d, s: xd.create_movie(out(d), timing=3, spacing=S, dtype=np.uint16), TypeError, r"timing must be an isx_dask.Timing")
case("create_movie/extra_properties_surrogate", lambda d, s: xd.create_movie(out(d), timing=T, spacing=S, dtype=np.uint16, extra_properties={"k": "\ud800"}), ValueError, r"extra_properties")
case("create_movie/reserve_bogus", lambda d, s: xd.create_movie(out(d), timing=T, spacing=S, dtype=np.uint16, reserve="x"), ValueError, r"reserve must be one of")
case("create_movie/path_exists", lambda d, s: xd.create_movie(out(d), timing=T, spacing=S, dtype=np.uint16), FileExistsError, r"already exists", existing=True)
case("create_movie/path_no_isxd", lambda d, s: xd.create_movie(d / "m.raw", timing=T, spacing=S, dtype=np.uint16), ValueError, r"must end with '.isxd'")
case("write_movie_region/cast_300_to_uint8", lambda d, s: xd.write_movie_region(full((1, ROWS, COLS), 300, np.uint16), s, 0), ValueError, r"frames .*uint8",
     prepare=template(), cleanup=drop_template)
case("write_movie_region/cast_0.5_to_uint8", lambda d, s: xd.write_movie_region(full((1, ROWS, COLS), 0.5, np.float64), s, 0), (ValueError, TypeError), r"frames .*uint8", prepare=template(), cleanup=drop_template)
case("write_movie_region/cast_300_to_uint8/dask", lambda d, s: xd.write_movie_region(lazy(full((1, ROWS, COLS), 300, np.uint16)), s, 0), ValueError, r"frames .*uint8",
     prepare=template(), cleanup=drop_template, late=True)
case("write_movie_region/start_out_of_range", lambda d, s: xd.write_movie_region(M16[:1].astype(np.uint8), s, 3), ValueError, r"start_frame", prepare=template(), cleanup=drop_template)
case("write_movie_region/start_negative", lambda d, s: xd.write_movie_region(M16[:1].astype(np.uint8), s, -1), ValueError, r"start_frame", prepare=template(), cleanup=drop_template)
case("write_movie_region/too_many_frames", lambda d, s: xd.write_movie_region(np.zeros((3, ROWS, COLS), np.uint8), s, 1), ValueError, r"start_frame|frames", prepare=template(), cleanup=drop_template)
case("write_movie_region/frame_shape", lambda d, s: xd.write_movie_region(np.zeros((1, 5, 4), np.uint8), s, 0), ValueError, r"frames", prepare=template(), cleanup=drop_template)
case("write_movie_region/start_float", lambda d, s: xd.write_movie_region(np.zeros((1, ROWS, COLS), np.uint8), s, 0.5), TypeError, r"start_frame", prepare=template(), cleanup=drop_template)
case("write_movie_region/no_template", lambda d, s: xd.write_movie_region(np.zeros((1, ROWS, COLS), np.uint8), out(d), 0), FileNotFoundError, r"out.isxd|create_movie")
case("write_movie_region/scheduler_bogus", lambda d, s: xd.write_movie_region(np.zeros((1, ROWS, COLS), np.uint8), s, 0, compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\]", prepare=template(), cleanup=drop_template)
case("commit_movie/missing_frames", lambda d, s: xd.commit_movie(s), ValueError, r"cannot commit .*3 valid frame\(s\) not written yet", prepare=template(), cleanup=drop_template)
case("commit_movie/no_template", lambda d, s: xd.commit_movie(out(d)), FileNotFoundError, r"out.isxd|create_movie")

# ==== incremental writers ==========================================================================
def movie_writer(dtype: Any = np.uint8):
    return opened(lambda d: xd.Movie.write(out(d), T, S, dtype))


def cellset_writer(d: Path) -> Any:
    return xd.CellSet.write(out(d), T, S)


def eventset_writer(d: Path) -> Any:
    return xd.EventSet.write(out(d), T, ["C0", "C1"])


def vessel_writer(d: Path) -> Any:
    return xd.VesselSet.write(out(d), T, S, "vessel diameter")


F8 = np.zeros((ROWS, COLS), np.uint8)
case("Movie.write/path_exists", lambda d, s: xd.Movie.write(out(d), T, S, np.uint16), FileExistsError, r"already exists", existing=True)
case("Movie.write/path_no_isxd", lambda d, s: xd.Movie.write(d / "m.avi", T, S, np.uint16), ValueError, r"must end with '.isxd'")
case("Movie.write/data_type_int64", lambda d, s: xd.Movie.write(out(d), T, S, np.int64), (ValueError, TypeError), r"data_type")
case("Movie.write/zero_frames", lambda d, s: xd.Movie.write(out(d), Timing(num_samples=0), S, np.uint16), ValueError, r"(timing|num_samples).*(0|empty|at least one)")
case("Movie.write/zero_cols", lambda d, s: xd.Movie.write(out(d), T, Spacing(num_pixels=(4, 0)), np.uint16), ValueError, r"(spacing|num_pixels).*(0|empty|at least one)")
case("Movie.write/extra_properties_surrogate", lambda d, s: xd.Movie.write(out(d), T, S, np.uint16, extra_properties={"a": "\ud800"}), ValueError, r"extra_properties")
case("Movie.write/misspelled_overwite", lambda d, s: xd.Movie.write(out(d), T, S, np.uint16, overwite=True), TypeError, r"overwite")
case("Movie.set_frame_data/cast_300_to_uint8", lambda d, s: s.set_frame_data(0, full((ROWS, COLS), 300, np.uint16)), ValueError, r"frame.*uint8", prepare=movie_writer(), cleanup=discard)
case("Movie.set_frame_data/cast_minus1_to_uint8", lambda d, s: s.set_frame_data(0, full((ROWS, COLS), -1, np.int16)), ValueError, r"frame.*uint8", prepare=movie_writer(), cleanup=discard)
case("Movie.set_frame_data/cast_nan_to_uint16", lambda d, s: s.set_frame_data(0, full((ROWS, COLS), np.nan, np.float32)), ValueError, r"frame.*uint16", prepare=movie_writer(np.uint16), cleanup=discard)
case("Movie.set_frame_data/cast_1e300_to_float32", lambda d, s: s.set_frame_data(0, full((ROWS, COLS), 1e300, np.float64)), ValueError, r"frame.*float32", prepare=movie_writer(np.float32), cleanup=discard)
case("Movie.set_frame_data/shape", lambda d, s: s.set_frame_data(0, np.zeros((5, 4), np.uint8)), ValueError, r"frame.*\(4, 5\)", prepare=movie_writer(), cleanup=discard)
case("Movie.set_frame_data/index_out_of_range", lambda d, s: s.set_frame_data(3, F8), (ValueError, IndexError), r"index 3 is out of range", prepare=movie_writer(), cleanup=discard)
case("Movie.set_frame_data/index_negative", lambda d, s: s.set_frame_data(-1, F8), (ValueError, IndexError), r"index .*-1", prepare=movie_writer(), cleanup=discard)
case("Movie.set_frame_data/list", lambda d, s: s.set_frame_data(0, F8.tolist()), TypeError, r"frame.*numpy.ndarray", prepare=movie_writer(), cleanup=discard)
case("Movie.set_frame_data/complex", lambda d, s: s.set_frame_data(0, F8.astype(np.complex64)), TypeError, r"frame.*complex", prepare=movie_writer(), cleanup=discard)
def movie_with_frame_0(d: Path) -> Any:
    m = xd.Movie.write(out(d), T, S, np.uint8)
    m.set_frame_data(0, F8)
    return m


def cellset_with_cell_0(d: Path) -> Any:
    cs = xd.CellSet.write(out(d), T, S)
    cs.set_cell_data(0, FP[0], TR[0], "C0")
    return cs


case("Movie.set_frame_data/written_twice", lambda d, s: s.set_frame_data(0, F8 + 1), ValueError, r"frame 0 was already written; each frame may be written once", prepare=movie_with_frame_0, cleanup=discard)
case("CellSet.set_cell_data/written_twice", lambda d, s: s.set_cell_data(0, FP[1], TR[1], "C0b"), ValueError, r"cell 0 was already written; each cell may be written once", prepare=cellset_with_cell_0, cleanup=discard)
case("Movie.set_frame_data/masked_frame", lambda d, s: s.set_frame_data(0, masked(F8)), ValueError, r"frame is a masked array", prepare=movie_writer(), cleanup=discard)
case("CellSet.set_cell_data/masked_trace", lambda d, s: s.set_cell_data(0, FP[0], masked(TR[0]), "C0"), ValueError, r"trace is a masked array", prepare=opened(cellset_writer), cleanup=discard)
case("write_event_set/masked_amplitudes", lambda d, s: wes(d, amps=[masked(np.array([1.0, 2.0])), [3.0]]), ValueError, r"amplitudes\[0\] is a masked array")
case("write_gpio_set/masked_values", lambda d, s: wgs(d, data=[(np.array([0, 50000]), masked(np.array([1.0, 0.0])))]), ValueError, r"values.* is a masked array")
case("VesselSet.set_vessel_diameter_data/masked_trace", lambda d, s: s.set_vessel_diameter_data(0, IMG, LINES[0], masked(TR[0]), TR[0]), ValueError, r"trace is a masked array",
     prepare=opened(vessel_writer), cleanup=discard)
case("Image.write/3d", lambda d, s: xd.Image.write(out(d), S, np.uint16, M16), ValueError, r"data|image")
case("Image.write/cast_300_to_uint8", lambda d, s: xd.Image.write(out(d), S, np.uint8, full((ROWS, COLS), 300, np.uint16)), ValueError, r"(data|image).*uint8")
case("Image.write/shape", lambda d, s: xd.Image.write(out(d), S, np.uint16, np.zeros((5, 4), np.uint16)), ValueError, r"(data|image).*\(4, 5\)|num_pixels")
case("Image.write/path_exists", lambda d, s: xd.Image.write(out(d), S, np.uint16, M16[0]), FileExistsError, r"already exists", existing=True)
case("Image.write/data_type_bogus", lambda d, s: xd.Image.write(out(d), S, "int7", M16[0]), (ValueError, TypeError), r"data_type")
case("CellSet.write/path_exists", lambda d, s: xd.CellSet.write(out(d), T, S), FileExistsError, r"already exists", existing=True)
case("CellSet.write/zero_samples", lambda d, s: xd.CellSet.write(out(d), Timing(num_samples=0), S), ValueError, r"(timing|num_samples).*(0|empty|at least one)")
case("CellSet.write/zero_pixels", lambda d, s: xd.CellSet.write(out(d), T, Spacing(num_pixels=(0, 0))), ValueError, r"(spacing|num_pixels).*(0|empty|at least one)")
case("CellSet.write/extra_properties_surrogate", lambda d, s: xd.CellSet.write(out(d), T, S, extra_properties=["\ud800"]), ValueError, r"extra_properties")
case("CellSet.write/timing_none", lambda d, s: xd.CellSet.write(out(d), None, S), TypeError, r"timing must be an isx_dask.Timing")
case("CellSet.set_cell_data/trace_1e300", lambda d, s: s.set_cell_data(0, FP[0], full((N,), 1e300, np.float64), "C0"), ValueError, r"trace.*float32", prepare=opened(cellset_writer), cleanup=discard)
case("CellSet.set_cell_data/image_shape", lambda d, s: s.set_cell_data(0, FP[0, :2], TR[0], "C0"), ValueError, r"image.*\(4, 5\)", prepare=opened(cellset_writer), cleanup=discard)
case("CellSet.set_cell_data/trace_length", lambda d, s: s.set_cell_data(0, FP[0], TR[0, :2], "C0"), ValueError, r"trace.*\(3,\)", prepare=opened(cellset_writer), cleanup=discard)
case("CellSet.set_cell_data/name_nul", lambda d, s: s.set_cell_data(0, FP[0], TR[0], "C\x00"), ValueError, r"name.*NUL", prepare=opened(cellset_writer), cleanup=discard)
case("CellSet.set_cell_data/name_too_long", lambda d, s: s.set_cell_data(0, FP[0], TR[0], "z" * 256), ValueError, r"name.*256 UTF-8 bytes", prepare=opened(cellset_writer), cleanup=discard)
case("CellSet.set_cell_data/name_surrogate", lambda d, s: s.set_cell_data(0, FP[0], TR[0], "\udc80"), ValueError, r"name", prepare=opened(cellset_writer), cleanup=discard)
case("CellSet.set_cell_data/name_int", lambda d, s: s.set_cell_data(0, FP[0], TR[0], 7), TypeError, r"name must be a str", prepare=opened(cellset_writer), cleanup=discard)
case("CellSet.set_cell_data/index_negative", lambda d, s: s.set_cell_data(-1, FP[0], TR[0], "C0"), (ValueError, IndexError), r"index .*-1", prepare=opened(cellset_writer), cleanup=discard)
case("CellSet.set_cell_data/image_str", lambda d, s: s.set_cell_data(0, FP[0].astype(str), TR[0], "C0"), TypeError, r"image", prepare=opened(cellset_writer), cleanup=discard)
case("CellSet.set_cell_status/bogus", lambda d, s: s.set_cell_status(0, "good"), ValueError, r"status must be 'accepted'", prepare=opened(cellset_writer), cleanup=discard)
case("EventSet.write/duplicate_names", lambda d, s: xd.EventSet.write(out(d), T, ["a", "a"]), ValueError, r"cell_names must be unique")
case("EventSet.write/names_nul", lambda d, s: xd.EventSet.write(out(d), T, ["a\x00"]), ValueError, r"cell_names\[0\].*NUL")
case("EventSet.write/names_str", lambda d, s: xd.EventSet.write(out(d), T, "abc"), TypeError, r"cell_names must be a (sequence|list or tuple)")
case("EventSet.write/extra_properties_surrogate", lambda d, s: xd.EventSet.write(out(d), T, ["a"], extra_properties={"x": "\ud800"}), ValueError, r"extra_properties")
case("EventSet.write/end_time_bogus", lambda d, s: xd.EventSet.write(out(d), T, ["a"], end_time="never"), ValueError, r"end_time")
case("EventSet.write/path_exists", lambda d, s: xd.EventSet.write(out(d), T, ["a"]), FileExistsError, r"already exists", existing=True)
case("EventSet.set_cell_data/negative_offset", lambda d, s: s.set_cell_data(0, np.array([-1]), np.array([1.0])), ValueError, r"offsets.*-1", prepare=opened(eventset_writer), cleanup=discard)
case("EventSet.set_cell_data/offset_past_end", lambda d, s: s.set_cell_data(0, np.array([10**9]), np.array([1.0])), ValueError, r"offsets", prepare=opened(eventset_writer), cleanup=discard)
case("EventSet.set_cell_data/length_mismatch", lambda d, s: s.set_cell_data(0, np.array([0, 1]), np.array([1.0])), ValueError, r"amplitudes|offsets", prepare=opened(eventset_writer), cleanup=discard)
case("EventSet.set_cell_data/amplitude_1e300", lambda d, s: s.set_cell_data(0, np.array([0]), np.array([1e300])), ValueError, r"amplitudes.*float32", prepare=opened(eventset_writer), cleanup=discard)
case("EventSet.set_cell_data/amplitude_int_2**24+1", lambda d, s: s.set_cell_data(0, np.array([0]), np.array([2**24 + 1])), ValueError, r"amplitudes holds 1 value\(s\) that float32 cannot hold exactly", prepare=opened(eventset_writer), cleanup=discard)
case("EventSet.set_cell_data/offset_fraction", lambda d, s: s.set_cell_data(0, np.array([0.5]), np.array([1.0])), (ValueError, TypeError), r"offsets", prepare=opened(eventset_writer), cleanup=discard)
case("EventSet.set_cell_data/index_out_of_range", lambda d, s: s.set_cell_data(5, np.array([0]), np.array([1.0])), (ValueError, IndexError), r"index 5 is out of range", prepare=opened(eventset_writer), cleanup=discard)
case("VesselSet.write/vessel_type_bogus", lambda d, s: xd.VesselSet.write(out(d), T, S, "capillary"), ValueError, r"vessel_type")
case("VesselSet.write/zero_samples", lambda d, s: xd.VesselSet.write(out(d), Timing(num_samples=0), S, "vessel diameter"), ValueError, r"(timing|num_samples).*(0|empty|at least one)")
case("VesselSet.write/extra_properties_surrogate", lambda d, s: xd.VesselSet.write(out(d), T, S, "vessel diameter", extra_properties="\ud800"), ValueError, r"extra_properties")
case("VesselSet.write/path_exists", lambda d, s: xd.VesselSet.write(out(d), T, S, "vessel diameter"), FileExistsError, r"already exists", existing=True)
case("VesselSet.set_vessel_diameter_data/line_shape", lambda d, s: s.set_vessel_diameter_data(0, IMG, np.zeros((4, 2), int), TR[0], TR[0]), ValueError, r"line", prepare=opened(vessel_writer), cleanup=discard)
case("VesselSet.set_vessel_diameter_data/line_outside", lambda d, s: s.set_vessel_diameter_data(0, IMG, np.array([[0, 0], [COLS, 0]]), TR[0], TR[0]), ValueError, r"line \(vessel 0\) has point 1 at \(x=5, y=0\), outside the projection image", prepare=opened(vessel_writer), cleanup=discard)
case("VesselSet.set_rbc_velocity_data/line_outside", lambda d, s: s.set_rbc_velocity_data(0, IMG, np.array([[0, 0], [1, 0], [1, 1], [-1, 1]]), TR[0], TR[0]), ValueError, r"line \(vessel 0\) has point 3 at \(x=-1, y=1\), outside", prepare=opened(lambda d: xd.VesselSet.write(out(d), T, S, "rbc velocity")), cleanup=discard)
case("VesselSet.set_vessel_diameter_data/trace_1e300", lambda d, s: s.set_vessel_diameter_data(0, IMG, LINES[0], full((N,), 1e300, np.float64), TR[0]), ValueError, r"trace.*float32", prepare=opened(vessel_writer), cleanup=discard)
case("VesselSet.set_vessel_diameter_data/name_nul", lambda d, s: s.set_vessel_diameter_data(0, IMG, LINES[0], TR[0], TR[0], "V\x00"), ValueError, r"name.*NUL", prepare=opened(vessel_writer), cleanup=discard)
case("VesselSet.set_rbc_velocity_data/wrong_type", lambda d, s: s.set_rbc_velocity_data(0, IMG, RBC_LINES[0], TR[0], TR[0]), (ValueError, RuntimeError), r"rbc|vessel diameter", prepare=opened(vessel_writer), cleanup=discard)
case("VesselSet.set_vessel_status/bogus", lambda d, s: s.set_vessel_status(0, "fine"), ValueError, r"status must be 'accepted'", prepare=opened(vessel_writer), cleanup=discard)

# ==== conversion ===================================================================================
Z300 = full((N, ROWS, COLS), 300, np.uint16)
case("zarr_to_isxd/string_dtype", lambda d, s: xd.zarr_to_isxd(s, out(d)), TypeError, r"(source|dtype).*(<U|str|U1)", prepare=make_zarr(M16.astype("U3")))
case("zarr_to_isxd/complex_dtype", lambda d, s: xd.zarr_to_isxd(s, out(d), dtype=np.float32), TypeError, r"complex", prepare=make_zarr(M16.astype(np.complex64)))
case("zarr_to_isxd/cast_300_to_uint8", lambda d, s: xd.zarr_to_isxd(s, out(d), dtype=np.uint8), ValueError, r"uint8.*casting='unsafe'", prepare=make_zarr(Z300), late=True)
case("zarr_to_isxd/cast_1e300_to_float32", lambda d, s: xd.zarr_to_isxd(s, out(d), dtype=np.float32), ValueError, r"float32", prepare=make_zarr(full((N, ROWS, COLS), 1e300, np.float64)), late=True)
case("zarr_to_isxd/2d", lambda d, s: xd.zarr_to_isxd(s, out(d)), ValueError, r"3 dimensions|\(num_samples, rows, cols\)", prepare=make_zarr(M16[0]))
case("zarr_to_isxd/zero_frames", lambda d, s: xd.zarr_to_isxd(s, out(d)), ValueError, r"(frames|source).*(0|empty|at least one)", prepare=make_zarr(M16[:0]))
case("zarr_to_isxd/missing_source", lambda d, s: xd.zarr_to_isxd(d / "missing.zarr", out(d)), FileNotFoundError, r"missing.zarr")
case("zarr_to_isxd/target_is_source", lambda d, s: xd.zarr_to_isxd(s, s), ValueError, r"(source|path)", prepare=make_zarr(M16, "same.isxd"))
case("zarr_to_isxd/target_inside_source", lambda d, s: xd.zarr_to_isxd(s, s / "out.isxd"), ValueError, r"^path '.*src.zarr.out.isxd' lies inside the source '.*src.zarr'; choose a path outside it$", prepare=make_zarr(M16))
case("zarr_to_isxd/period_and_timing", lambda d, s: xd.zarr_to_isxd(s, out(d), timing=T, period=0.05), ValueError, r"period.*timing|timing.*period", prepare=make_zarr(M16))
case("zarr_to_isxd/period_1e-30", lambda d, s: xd.zarr_to_isxd(s, out(d), period=1e-30), ValueError, r"period.*(fit|2\*\*63)", prepare=make_zarr(M16))
case("zarr_to_isxd/period_nan", lambda d, s: xd.zarr_to_isxd(s, out(d), period=float("nan")), ValueError, r"period must be .*got nan", prepare=make_zarr(M16))
case("zarr_to_isxd/period_str", lambda d, s: xd.zarr_to_isxd(s, out(d), period="fast"), ValueError, r"period", prepare=make_zarr(M16))
case("zarr_to_isxd/pixel_size_inf", lambda d, s: xd.zarr_to_isxd(s, out(d), pixel_size=float("inf")), ValueError, r"pixel_size must be .*got inf", prepare=make_zarr(M16))
case("zarr_to_isxd/pixel_size_and_spacing", lambda d, s: xd.zarr_to_isxd(s, out(d), spacing=S, pixel_size=2), ValueError, r"pixel_size.*spacing|spacing.*pixel_size", prepare=make_zarr(M16))
case("zarr_to_isxd/dtype_int64", lambda d, s: xd.zarr_to_isxd(s, out(d), dtype=np.int64), (ValueError, TypeError), r"dtype", prepare=make_zarr(M16))
case("zarr_to_isxd/casting_bogus", lambda d, s: xd.zarr_to_isxd(s, out(d), casting="x"), ValueError, r"casting must be one of", prepare=make_zarr(M16))
case("zarr_to_isxd/scheduler_bogus", lambda d, s: xd.zarr_to_isxd(s, out(d), compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\]", prepare=make_zarr(M16))
case("zarr_to_isxd/path_exists", lambda d, s: xd.zarr_to_isxd(s, out(d)), FileExistsError, r"already exists", prepare=make_zarr(M16), existing=True)
case("zarr_to_isxd/metadata_from_not_an_option", lambda d, s: xd.zarr_to_isxd(s, out(d), metadata_from=s), TypeError, r"metadata_from", prepare=make_zarr(M16))
case("isxd_to_zarr/target_is_source", lambda d, s: xd.isxd_to_zarr(s, s, overwrite=True), ValueError, r"^target '.*src.isxd' is the source path '.*src.isxd' itself; choose another target$", prepare=make_movie)
case("isxd_to_zarr/target_is_source_other_spelling", lambda d, s: xd.isxd_to_zarr(s, Path(str(s.parent) + "/./" + s.name), overwrite=True), ValueError, r"(target|source)", prepare=make_movie)
case("isxd_to_zarr/target_exists", lambda d, s: xd.isxd_to_zarr(s[0], s[1]), FileExistsError, r"overwrite", prepare=both(make_movie, make_zarr(M16)))
case("isxd_to_zarr/source_missing", lambda d, s: xd.isxd_to_zarr(d / "gone.isxd", d / "t.zarr"), FileNotFoundError, r"gone.isxd")
case("isxd_to_zarr/source_text", lambda d, s: xd.isxd_to_zarr(s, d / "t.zarr"), xd.IsxdFormatError, r"notes.isxd", prepare=make_text)
case("isxd_to_zarr/clevel_12", lambda d, s: xd.isxd_to_zarr(s, d / "t.zarr", clevel=12), ValueError, r"clevel", prepare=make_movie)
case("isxd_to_zarr/compressor_bogus", lambda d, s: xd.isxd_to_zarr(s, d / "t.zarr", compressor="snappy9"), ValueError, r"compressor", prepare=make_movie)
case("isxd_to_zarr/zarr_format_4", lambda d, s: xd.isxd_to_zarr(s, d / "t.zarr", zarr_format=4), ValueError, r"zarr_format", prepare=make_movie)
case("isxd_to_zarr/chunks_zero", lambda d, s: xd.isxd_to_zarr(s, d / "t.zarr", chunks=0), ValueError, r"chunks", prepare=make_movie)
case("isxd_to_zarr/scheduler_bogus", lambda d, s: xd.isxd_to_zarr(s, d / "t.zarr", compute_kwargs={"scheduler": "bogus"}), ValueError, r"compute_kwargs\['scheduler'\]", prepare=make_movie)
case("isxd_to_zarr/overwrite_str", lambda d, s: xd.isxd_to_zarr(s, d / "t.zarr", overwrite="yes"), TypeError, r"overwrite", prepare=make_movie)
case("tiff_to_isxd/period_missing", lambda d, s: xd.tiff_to_isxd(s, out(d), pixel_size=2), ValueError, r"period", prepare=make_tiff(M16, photometric="minisblack"))
case("tiff_to_isxd/pixel_size_missing", lambda d, s: xd.tiff_to_isxd(s, out(d), period=0.05), ValueError, r"pixel_size", prepare=make_tiff(M16, photometric="minisblack"))
case("tiff_to_isxd/period_nan", lambda d, s: xd.tiff_to_isxd(s, out(d), period=float("nan"), pixel_size=2), ValueError, r"period.*finite", prepare=make_tiff(M16, photometric="minisblack"))
case("tiff_to_isxd/period_over_64_bits", lambda d, s: xd.tiff_to_isxd(s, out(d), period=Duration(1, 10**20), pixel_size=2), ValueError, r"2\*\*63 - 1", prepare=make_tiff(M16, photometric="minisblack"))
case("tiff_to_isxd/pixel_size_zero", lambda d, s: xd.tiff_to_isxd(s, out(d), period=0.05, pixel_size=0), ValueError, r"pixel_size", prepare=make_tiff(M16, photometric="minisblack"))
case("tiff_to_isxd/cast_300_to_uint8", lambda d, s: xd.tiff_to_isxd(s, out(d), period=0.05, pixel_size=2, dtype=np.uint8), ValueError, r"uint8", prepare=make_tiff(Z300, photometric="minisblack"), late=True)
case("tiff_to_isxd/float64_1e300", lambda d, s: xd.tiff_to_isxd(s, out(d), period=0.05, pixel_size=2, dtype=np.float32), ValueError, r"float32", prepare=make_tiff(full((N, ROWS, COLS), 1e300, np.float64), photometric="minisblack"), late=True)
case("tiff_to_isxd/source_missing", lambda d, s: xd.tiff_to_isxd(d / "gone.tif", out(d), period=0.05, pixel_size=2), FileNotFoundError, r"gone.tif")
case("tiff_to_isxd/zstack", lambda d, s: xd.tiff_to_isxd(s, out(d), period=0.05, pixel_size=2), ValueError, r"Z|axes", prepare=make_tiff(M16, imagej=True, metadata={"axes": "ZYX"}))
case("tiff_to_isxd/series_out_of_range", lambda d, s: xd.tiff_to_isxd(s, out(d), period=0.05, pixel_size=2, series=5), (ValueError, IndexError), r"series", prepare=make_tiff(M16, photometric="minisblack"))
case("tiff_to_isxd/path_exists", lambda d, s: xd.tiff_to_isxd(s, out(d), period=0.05, pixel_size=2), FileExistsError, r"already exists", prepare=make_tiff(M16, photometric="minisblack"), existing=True)
case("tiff_to_isxd/misspelled_pixelsize", lambda d, s: xd.tiff_to_isxd(s, out(d), period=0.05, pixelsize=2), TypeError, r"pixelsize", prepare=make_tiff(M16, photometric="minisblack"))
case("suite2p_to_isxd/missing_F", lambda d, s: xd.suite2p_to_isxd(s, out(d)), FileNotFoundError, r"F.npy", prepare=lambda d: make_plane(d, drop="F.npy"))
case("suite2p_to_isxd/no_frame_rate", lambda d, s: xd.suite2p_to_isxd(s, out(d)), ValueError, r"frame_rate|fs", prepare=lambda d: make_plane(d, fs=None))
case("suite2p_to_isxd/frame_rate_zero", lambda d, s: xd.suite2p_to_isxd(s, out(d), frame_rate=0), ValueError, r"frame_rate", prepare=make_plane)
case("suite2p_to_isxd/frame_rate_nan", lambda d, s: xd.suite2p_to_isxd(s, out(d), frame_rate=float("nan")), ValueError, r"frame_rate", prepare=make_plane)
case("suite2p_to_isxd/events_path_same_as_cells", lambda d, s: xd.suite2p_to_isxd(s, out(d), out(d)), ValueError, r"event_set_path|cell_set_path", prepare=make_plane)
case("suite2p_to_isxd/status_bogus", lambda d, s: xd.suite2p_to_isxd(s, out(d), statuses=["ok", "ok"]), ValueError, r"statuses\[0\]", prepare=make_plane)
case("suite2p_to_isxd/names_count", lambda d, s: xd.suite2p_to_isxd(s, out(d), cell_names=["a"]), ValueError, r"cell_names has 1 names", prepare=make_plane)
case("suite2p_to_isxd/cell_set_exists", lambda d, s: xd.suite2p_to_isxd(s, out(d)), FileExistsError, r"already exists", prepare=make_plane, existing=True)
case("suite2p_to_isxd/event_set_exists", lambda d, s: xd.suite2p_to_isxd(s, d / "cells.isxd", out(d)), FileExistsError, r"already exists", prepare=make_plane, existing=True)
case("suite2p_to_isxd/event_path_no_isxd", lambda d, s: xd.suite2p_to_isxd(s, out(d), d / "ev.csv"), ValueError, r"must end with '.isxd'", prepare=make_plane)
case("caiman_mmap_to_isxd/bad_name", lambda d, s: xd.caiman_mmap_to_isxd(s, out(d), period=0.05, pixel_size=2), ValueError, r"mmap|d1_|order", prepare=lambda d: [(d / "movie.mmap").write_bytes(b"\x00" * 64), d / "movie.mmap"][1])
case("series_to_isxd/empty", lambda d, s: xd.series_to_isxd([], out(d)), ValueError, r"sources")
case("miniscope_to_isxd/pixel_size_missing", lambda d, s: xd.miniscope_to_isxd(d, out(d)), TypeError, r"pixel_size")

def make_text_h5(d: Path) -> Path:
    p = d / "text.h5"
    p.write_text("not an HDF5 file")
    return p


def make_empty_folder(d: Path) -> Path:
    (d / "empty").mkdir()
    return d / "empty"


case("caiman_to_isxd/missing", lambda d, s: xd.caiman_to_isxd(d / "gone.hdf5", out(d)), FileNotFoundError, r"hdf5_path .*gone.hdf5.* does not exist")
case("caiman_to_isxd/not_hdf5", lambda d, s: xd.caiman_to_isxd(s, out(d)), xd.IsxdFormatError, r"text.h5 is not an HDF5 file", prepare=make_text_h5)
case("caiman_to_isxd/traces_bogus", lambda d, s: xd.caiman_to_isxd(s, out(d), traces="smooth"), ValueError, r"traces must be 'raw' .* or 'denoised'", prepare=make_text_h5)
case("minian_to_isxd/missing", lambda d, s: xd.minian_to_isxd(d / "gone", out(d)), FileNotFoundError, r"minian_dir_or_zarr .*gone.* does not exist")
case("minian_to_isxd/empty_folder", lambda d, s: xd.minian_to_isxd(s, out(d)), xd.IsxdFormatError, r"empty.* holds neither A.zarr", prepare=make_empty_folder)
case("cnmfe_to_isxd/missing", lambda d, s: xd.cnmfe_to_isxd(d / "gone.h5", out(d)), FileNotFoundError, r"h5_path .*gone.h5.* does not exist")
case("cnmfe_to_isxd/not_hdf5", lambda d, s: xd.cnmfe_to_isxd(s, out(d)), xd.IsxdFormatError, r"text.h5 is not an HDF5 file", prepare=make_text_h5)
case("miniscope_to_isxd/no_avi", lambda d, s: xd.miniscope_to_isxd(s, out(d), pixel_size=2), FileNotFoundError, r"folder .*empty.* has no .avi files", prepare=make_empty_folder)
case("miniscope_to_isxd/missing", lambda d, s: xd.miniscope_to_isxd(d / "gone", out(d), pixel_size=2), FileNotFoundError, r"folder .*gone.* does not exist")
case("caiman_mmap_to_isxd/missing", lambda d, s: xd.caiman_mmap_to_isxd(d / "gone_d1_4_d2_5_d3_1_order_C_frames_3.mmap", out(d), period=0.05, pixel_size=2), FileNotFoundError, r"mmap_path .* does not exist")
case("series_to_isxd/source_missing", lambda d, s: xd.series_to_isxd([d / "gone.tif"], out(d)), FileNotFoundError, r"source .*gone.tif.* does not exist")
case("series_to_isxd/split_count", lambda d, s: xd.series_to_isxd([s, s], [out(d)], split=True), ValueError, r"path must hold 2 output paths", prepare=make_movie)
case("series_to_isxd/target_is_source", lambda d, s: xd.series_to_isxd([s], s, overwrite=True), ValueError, r"(path|source)", prepare=make_movie)
case("isxd_to_nwb/source_missing", lambda d, s: xd.isxd_to_nwb(d / "gone.isxd", d / "o.nwb"), FileNotFoundError, r"gone.isxd")
case("isxd_to_nwb/target_is_source", lambda d, s: xd.isxd_to_nwb(s, s, overwrite=True), ValueError, r"nwb_path .* is also an input", prepare=make_movie)
case("isxd_to_nwb/frame_headers_bogus", lambda d, s: xd.isxd_to_nwb(s, d / "o.nwb", frame_headers="keep"), ValueError, r"frame_headers must be 'refuse' or 'drop'", prepare=make_movie)
case("isxd_to_nwb/compression_bogus", lambda d, s: xd.isxd_to_nwb(s, d / "o.nwb", compression="zip"), ValueError, r"compression must be None, 'gzip' or 'lzf'", prepare=make_movie)
case("isxd_to_nwb/target_exists", lambda d, s: xd.isxd_to_nwb(s, d / "o.nwb"), FileExistsError, r"o.nwb.*overwrite", prepare=lambda d: (make_movie(d), (d / "o.nwb").write_bytes(PRECIOUS))[0])
case("isxd_to_nwb/target_not_nwb", lambda d, s: xd.isxd_to_nwb(s, out(d), overwrite=True), ValueError, r"nwb_path '.*out.isxd' must end with '.nwb'", prepare=make_movie, existing=True)
case("isxd_to_nwb/target_nwb_dot_h5", lambda d, s: xd.isxd_to_nwb(s, d / "o.nwb.h5"), ValueError, r"nwb_path '.*o.nwb.h5' must end with '.nwb'", prepare=make_movie)
case("isxd_to_nwb/target_no_extension", lambda d, s: xd.isxd_to_nwb(s, d / "session"), ValueError, r"nwb_path '.*session' must end with '.nwb'.*'session.nwb'", prepare=make_movie)
case("series_to_isxd/target_is_a_source", lambda d, s: xd.series_to_isxd([s, s], s, overwrite=True), ValueError, r"^path '.*src.isxd' is sources\[0\] '.*src.isxd' itself; choose another path$", prepare=make_movie)
case("deinterleave_movie/num_planes_missing", lambda d, s: xd.deinterleave_movie(s, [out(d)]), TypeError, r"num_planes", prepare=make_movie)


# ==== sizes no file can hold (more than 2**63 - 1 bytes) ================================================
HUGE_T = Timing(num_samples=2**62)
HUGE_S = Spacing(num_pixels=(2**20, 2**20))
HUGE_DROPPED_T = Timing(num_samples=2**62, dropped=[1], cropped=[(5, 9)])
TOO_BIG = r"data section would be \d+ bytes, more than a file can hold .*timing.num_samples.*spacing.num_pixels"
case("write_movie/size_over_64_bits/dask", lambda d, s: xd.write_movie(da.zeros((2**62, ROWS, COLS), dtype=np.uint16, chunks=(2**60, ROWS, COLS)), out(d), compute=False),
     ValueError, TOO_BIG)
case("write_movie/size_over_64_bits/dask_dropped", lambda d, s: xd.write_movie(da.zeros((2**62, ROWS, COLS), dtype=np.uint16, chunks=(2**60, ROWS, COLS)), out(d), timing=HUGE_DROPPED_T, compute=False),
     ValueError, TOO_BIG)
case("create_movie/size_over_64_bits", lambda d, s: xd.create_movie(out(d), timing=HUGE_T, spacing=HUGE_S, dtype=np.uint16), (ValueError, OSError), r"(timing|spacing|size|bytes)")
case("Movie.write/size_over_64_bits", lambda d, s: xd.Movie.write(out(d), HUGE_T, HUGE_S, np.uint16), ValueError, TOO_BIG)
case("Movie.write/size_over_64_bits/dropped", lambda d, s: xd.Movie.write(out(d), HUGE_DROPPED_T, S, np.uint16), ValueError, TOO_BIG)
case("CellSet.write/size_over_64_bits", lambda d, s: xd.CellSet.write(out(d), HUGE_T, HUGE_S), ValueError, TOO_BIG)
case("CellSet.write/size_over_64_bits/dropped", lambda d, s: xd.CellSet.write(out(d), HUGE_DROPPED_T, S), ValueError, TOO_BIG)
case("CellSet.set_cell_data/index_over_64_bits", lambda d, s: s.set_cell_data(2**61, FP[0], TR[0], None), ValueError,
     r"index 2305843009213693952 is too large: cells 0 to 2305843009213693952 would take \d+ bytes, more than a file can hold",
     prepare=opened(cellset_writer), cleanup=discard)
case("write_movie/size_20_TB", lambda d, s: xd.write_movie(da.zeros((10**7, 1024, 1024), dtype=np.uint16, chunks=(1000, 1024, 1024)), out(d), compute=False),
     OSError, r"cannot reserve 20971520000000 bytes", late=True)  # found by reserving the space: the temporary file existed


# ==== the command line ==============================================================================
case("cli/no_command", lambda d, s: cli(), CliError, r"exit 2: .*(COMMAND|command)")
case("cli/unknown_command", lambda d, s: cli("explode"), CliError, r"exit 2: .*explode")
case("cli/convert_missing_args", lambda d, s: cli("convert"), CliError, r"exit 2: .*SRC, DST")
case("cli/convert_src_missing", lambda d, s: cli("convert", d / "gone.isxd", d / "t.zarr"), CliError, r"exit 2: .*gone.isxd.* does not exist")
case("cli/convert_dst_exists", lambda d, s: cli("convert", s, out(d), "--from", "zarr"), CliError, r"exit 2: .*already exists.*--overwrite", prepare=make_zarr(M16), existing=True)
case("cli/convert_dst_no_isxd", lambda d, s: cli("convert", s, d / "out.tif"), CliError, r"exit 2: .*DST .*must end with .isxd", prepare=make_zarr(M16))
case("cli/convert_dst_is_src", lambda d, s: cli("convert", s, s, "--overwrite"), CliError, r"exit 2: .*(same|source|SRC)", prepare=make_movie)
case("cli/convert_period_1e-30", lambda d, s: cli("convert", s, out(d), "--period", "1e-30"), CliError, r"exit 2: .*--period", prepare=make_zarr(M16))
case("cli/convert_period_nan", lambda d, s: cli("convert", s, out(d), "--period", "nan"), CliError, r"exit 2: .*--period", prepare=make_zarr(M16))
case("cli/convert_period_negative", lambda d, s: cli("convert", s, out(d), "--period", "-0.05"), CliError, r"exit 2: .*--period", prepare=make_zarr(M16))
case("cli/convert_period_word", lambda d, s: cli("convert", s, out(d), "--period", "fast"), CliError, r"exit 2: .*--period", prepare=make_zarr(M16))
case("cli/convert_period_zero_den", lambda d, s: cli("convert", s, out(d), "--period", "1/0"), CliError, r"exit 2: .*--period", prepare=make_zarr(M16))
case("cli/convert_period_1e400", lambda d, s: cli("convert", s, out(d), "--period", "1e400"), CliError, r"exit 2: .*--period 1e400 does not fit", prepare=make_zarr(M16))
case("cli/convert_period_hex", lambda d, s: cli("convert", s, out(d), "--period", "0x10"), CliError, r"exit 2: .*--period must be a number", prepare=make_zarr(M16))
case("cli/convert_pixel_size_1e-400", lambda d, s: cli("convert", s, out(d), "--pixel-size", "1e-400"), CliError, r"exit 2: .*--pixel-size", prepare=make_zarr(M16))
case("cli/convert_pixel_size_triple", lambda d, s: cli("convert", s, out(d), "--pixel-size", "2,3,4"), CliError, r"exit 2: .*--pixel-size must be a number", prepare=make_zarr(M16))
case("cli/convert_pixel_size_inf", lambda d, s: cli("convert", s, out(d), "--pixel-size", "inf"), CliError, r"exit 2: .*--pixel-size", prepare=make_zarr(M16))
case("cli/convert_pixel_size_zero", lambda d, s: cli("convert", s, out(d), "--pixel-size", "0"), CliError, r"exit 2: .*--pixel-size", prepare=make_zarr(M16))
case("cli/convert_dtype_int64", lambda d, s: cli("convert", s, out(d), "--dtype", "int64"), CliError, r"exit 2: .*--dtype", prepare=make_zarr(M16))
case("cli/convert_dtype_uint8_changes_values", lambda d, s: cli("convert", s, out(d), "--dtype", "uint8", "--no-progress"), CliError, r"exit 2: .*uint8 cannot hold exactly.*--casting", prepare=make_zarr(Z300), late=True)
case("cli/convert_casting_bogus", lambda d, s: cli("convert", s, out(d), "--casting", "loose"), CliError, r"exit 2: .*--casting", prepare=make_zarr(M16))
case("cli/convert_scheduler_bogus", lambda d, s: cli("convert", s, out(d), "--scheduler", "bogus"), CliError, r"exit 2: .*--scheduler", prepare=make_zarr(M16))
case("cli/convert_from_bogus", lambda d, s: cli("convert", s, out(d), "--from", "avi2"), CliError, r"exit 2: .*--from", prepare=make_zarr(M16))
case("cli/convert_clevel_12", lambda d, s: cli("convert", s, d / "t.zarr", "--clevel", "12"), CliError, r"exit 2: .*--clevel", prepare=make_movie)
case("cli/convert_zarr_format_4", lambda d, s: cli("convert", s, d / "t.zarr", "--zarr-format", "4"), CliError, r"exit 2: .*--zarr-format", prepare=make_movie)
case("cli/convert_chunks_word", lambda d, s: cli("convert", s, d / "t.zarr", "--chunks", "many"), CliError, r"exit 2: .*--chunks", prepare=make_movie)
case("cli/convert_string_zarr", lambda d, s: cli("convert", s, out(d)), CliError, r"exit 2: .*(dtype|<U|str)", prepare=make_zarr(M16.astype("U3")))
case("cli/convert_events_for_movie", lambda d, s: cli("convert", s, out(d), "--events", d / "e.isxd"), CliError, r"exit 2: .*--events", prepare=make_zarr(M16))
case("cli/convert_frame_rate_zero", lambda d, s: cli("convert", s, out(d), "--frame-rate", "0"), CliError, r"exit 2: .*--frame-rate", prepare=make_plane)
case("cli/convert_tiff_no_period", lambda d, s: cli("convert", s, out(d), "--pixel-size", "2"), CliError, r"exit 2: .*--period", prepare=make_tiff(M16, photometric="minisblack"))
case("cli/convert_misspelled_option", lambda d, s: cli("convert", s, out(d), "--perod", "0.05"), CliError, r"exit 2: .*--perod", prepare=make_zarr(M16))
case("cli/convert_zarr_target_exists", lambda d, s: cli("convert", s[0], s[1]), CliError, r"exit 2: .*target .*src.zarr.* already exists; .*--overwrite", prepare=both(make_movie, make_zarr(M16)))
case("cli/convert_isxd_target_is_a_folder", lambda d, s: cli("convert", s, d, "--overwrite"), CliError, r"exit 2: .*DST .* must end with .zarr", prepare=make_movie)
case("cli/convert_period_for_isxd_source", lambda d, s: cli("convert", s, d / "x.zarr", "--period", "0.05"), CliError, r"exit 2: .*--period does not apply to isxd sources", prepare=make_movie)
case("cli/convert_dtype_for_isxd_source", lambda d, s: cli("convert", s, d / "x.zarr", "--dtype", "uint8"), CliError, r"exit 2: .*--dtype does not apply to isxd sources", prepare=make_movie)
case("cli/info_folder", lambda d, s: cli("info", s), CliError, r"exit 2: .*empty", prepare=make_empty_folder)
case("cli/info_two_paths", lambda d, s: cli("info", s, s), CliError, r"exit 2: .*unrecognized arguments", prepare=make_movie)
case("cli/info_missing", lambda d, s: cli("info", d / "gone.isxd"), CliError, r"exit 2: .*PATH .*gone.isxd.* does not exist")
case("cli/info_text", lambda d, s: cli("info", s), CliError, r"exit 2: .*notes.isxd.*not a committed .isxd file", prepare=make_text)


# -- the test -----------------------------------------------------------------------------------------
def _params() -> list[Any]:
    out_ = []
    for c in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else []
        out_.append(pytest.param(c, id=c.id, marks=marks))
    return out_


@pytest.mark.filterwarnings("ignore::isx_dask.DefaultMetadataWarning")
@pytest.mark.filterwarnings("ignore:Converting from:UserWarning")
@pytest.mark.parametrize("bad", _params())
def test_bad_input_is_refused_and_changes_nothing(tmp_path: Path, bad: Case) -> None:
    d = tmp_path / "work"
    d.mkdir()
    state = bad.prepare(d) if bad.prepare else None
    if bad.existing:
        out(d).write_bytes(PRECIOUS)
    before, entries = directory_state(d), tree(d)
    try:
        with watched(d) as writes, pytest.raises(bad.error, match=bad.match):
            bad.call(d, state)
        assert directory_state(d) == before, "the directory changed (a file appeared, disappeared or changed)"
        assert tree(d) == entries, "a file or folder appeared or disappeared"
        if not bad.late:
            assert writes == [], f"refused only after writing: {writes}"
    finally:
        if bad.cleanup and state is not None:
            bad.cleanup(state)
    assert leftovers(d) == []


def counts() -> tuple[int, int, int, int]:
    """(inputs tried, refused before any byte, refused at compute, known gaps marked xfail)."""
    early = sum(not c.late and not c.xfail for c in CASES)
    late = sum(c.late and not c.xfail for c in CASES)
    return len(CASES), early, late, sum(bool(c.xfail) for c in CASES)


def test_catalogue_counts() -> None:
    tried, early, late, gaps = counts()
    assert tried >= 150
    assert len({c.id for c in CASES}) == tried, "case ids must be unique"
    summary = " ".join((__doc__ or "").split())
    assert f"{tried} inputs tried; {early} refused before any byte" in summary
    assert f"{late} (values of lazy" in summary and f"{gaps} known gaps" in summary
