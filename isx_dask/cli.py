"""``isx-dask``: the command line (``demo``, ``info``, ``convert``); each command is a thin call to public functions.

Exit codes: 0 on success; 2 when the command as given cannot run (a bad or
missing option, a missing or existing path, input refused before anything is
written), with a one-line ``isx-dask COMMAND: error: ...`` message on stderr;
1 when it fails while running (``isx-dask COMMAND: failed: ...``); 130 when
interrupted.

Progress goes to stderr: a bar redrawn in place when stderr is a terminal,
otherwise a plain line at most every few seconds (so cluster job logs get
lines, not carriage returns).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import functools
import importlib
import inspect
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Collection, Iterator, Sequence, TextIO

from dask.callbacks import Callback

__all__ = ["SOURCES", "SourceKind", "build_parser", "main"]

_INT64_MAX = 2**63 - 1


class UsageError(ValueError):
    """Bad command-line input, reported with exit code 2."""


# -- progress ----------------------------------------------------------------------------------


class _Progress(Callback):
    """Task progress of local Dask schedulers: a bar on a terminal, otherwise a plain line every ``interval`` seconds."""

    def __init__(self, label: str, stream: TextIO | None = None, *, interval: float | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        self._terminal = bool(getattr(self._stream, "isatty", lambda: False)())
        self._interval = interval if interval is not None else (0.1 if self._terminal else 5.0)
        self._t0 = self._last = 0.0
        self._shown: int | None = None

    def _start(self, dsk: Any) -> None:
        self._t0 = self._last = time.perf_counter()

    def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        now = time.perf_counter()
        if now - self._last < self._interval:
            return
        self._last = now
        done = len(state["finished"])
        total = done + sum(len(state[k]) for k in ("ready", "waiting", "running"))
        self._show(done / total if total else 0.0, now - self._t0)

    def _finish(self, dsk: Any, state: Any, errored: bool) -> None:
        if not errored and (self._shown is not None or time.perf_counter() - self._t0 >= self._interval):
            self._show(1.0, time.perf_counter() - self._t0)
        if self._terminal and self._shown is not None:
            self._stream.write("\n")
            self._stream.flush()

    def _show(self, fraction: float, elapsed: float) -> None:
        percent = int(100 * fraction)
        if percent == self._shown and not self._terminal:
            return
        if self._terminal:
            bar = "#" * int(30 * fraction)
            self._stream.write(f"\r{self._label} [{bar:<30}] {percent:3d}% {elapsed:6.1f} s")
        else:
            self._stream.write(f"{self._label}: {percent}% after {elapsed:.1f} s\n")
        self._stream.flush()
        self._shown = percent


@contextlib.contextmanager
def _computing(scheduler: str | None, progress: bool, label: str) -> Iterator[None]:
    """Run the computations inside on ``scheduler`` (a name or a dask.distributed address), showing progress.

    The converters compute their own graphs (``compute=True``), so a failure
    removes their temporary files as it does for any call.
    """
    import dask

    if scheduler is not None and "://" in scheduler:
        from distributed import Client

        with Client(scheduler):  # type: ignore[no-untyped-call]
            yield  # dask.compute uses the active client
        return
    with dask.config.set(scheduler=scheduler or "threads"), _Progress(label) if progress else contextlib.nullcontext():
        yield


# -- formatting --------------------------------------------------------------------------------


def _um() -> str:
    """'µm' where the output can show it, else 'um'."""
    try:
        "µ".encode(getattr(sys.stdout, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "um"
    return "µm"


def _num(value: Fraction | float) -> str:
    """A number as a user reads it: exact integers plainly, others to 6 significant digits."""
    value = Fraction(value) if not isinstance(value, Fraction) else value
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6g}"


def _mib(nbytes: float) -> str:
    return f"{nbytes / 2**20:.1f} MiB"


def _indices(values: Sequence[Any], limit: int = 8) -> str:
    shown = [f"{a}-{b}" if isinstance(a, int) and b is not None else str(a) for a, b in values[:limit]]
    return "[" + ", ".join(shown) + (", ..." if len(values) > limit else "") + "]"


def _start_text(secs: Fraction, utc_offset: int) -> tuple[str, str]:
    """The start as local date text and as ISO 8601 with its UTC offset."""
    zone = _dt.timezone(_dt.timedelta(seconds=utc_offset))
    whole = int(secs // 1)
    micro = int((secs - whole) * 1_000_000)
    when = _dt.datetime.fromtimestamp(whole, zone).replace(microsecond=micro)
    sign = "+" if utc_offset >= 0 else "-"
    hours, minutes = divmod(abs(utc_offset) // 60, 60)
    shown = when.strftime("%Y-%m-%d %H:%M:%S") + (f".{micro:06d}".rstrip("0") if micro else "")
    return f"{shown} (UTC{sign}{hours:02d}:{minutes:02d})", when.isoformat()


# -- info ----------------------------------------------------------------------------------------


def _timing_info(t: Any) -> dict[str, Any]:
    period = t.period.to_fraction()
    start = t.start.secs_since_epoch.to_fraction()
    text, iso = _start_text(start, t.start.utc_offset)
    cropped_frames = sum(b - a + 1 for a, b in t.cropped)
    return {
        "num_samples": t.num_samples,
        "period_s": float(period),
        "period": f"{period.numerator}/{period.denominator}",
        "rate_hz": float(1 / period) if period else None,
        "duration_s": float(period * t.num_samples),
        "start": iso,
        "start_text": text,
        "utc_offset_s": t.start.utc_offset,
        "dropped": len(t.dropped),
        "cropped": cropped_frames,
        "blank": len(t.blank),
        "valid": t.num_samples - len(t.dropped) - cropped_frames - len(t.blank),
        "dropped_indices": list(t.dropped),
        "cropped_ranges": [list(c) for c in t.cropped],
        "blank_indices": list(t.blank),
    }


def _spacing_info(s: Any) -> dict[str, Any]:
    return {
        "num_pixels": list(s.num_pixels),
        "pixel_size_um": [float(p) for p in s.pixel_size],
        "top_left_um": [float(p) for p in s.top_left],
    }


def _status_counts(statuses: Sequence[str]) -> dict[str, int]:
    return {name: sum(1 for s in statuses if s == name) for name in ("accepted", "undecided", "rejected")}


def _packet_counts(f: Any, n: int) -> list[int]:
    """Events (or samples) stored per cell (or channel), counted in bounded memory."""
    import numpy as np

    counts = np.zeros(n, dtype=np.int64)
    for packets in f.iter_packets():
        counts += np.bincount(packets["cell"].astype(np.int64), minlength=n)[:n]
    return [int(c) for c in counts]


def _per_cell_summary(counts: list[int]) -> dict[str, Any]:
    import numpy as np

    if not counts:
        return {"total": 0, "min": 0, "median": 0, "max": 0}
    return {"total": sum(counts), "min": min(counts), "median": float(np.median(counts)), "max": max(counts)}


def _content_info(f: Any, kind: str) -> dict[str, Any]:
    """What the file holds, by type."""
    if kind in ("movie", "image"):
        out = {"shape": list(f.shape), "dtype": str(f.dtype)}
        if kind == "movie":
            out["frames"] = f.shape[0]
        return out
    if kind == "cell set":
        return {"cells": f.num_cells, "statuses": _status_counts(f.statuses), "num_samples": f.timing.num_samples}
    if kind == "event set":
        counts = _packet_counts(f, f.num_cells)
        return {"cells": f.num_cells, "channels": f.num_cells, "events": _per_cell_summary(counts)}
    if kind == "vessel set":
        return {"vessels": f.num_vessels, "vessel_type": f.vessel_type, "statuses": _status_counts(f.statuses),
                "correlation_heatmaps": bool(f.has_correlation_heatmaps)}
    if hasattr(f, "num_channels"):
        counts = _packet_counts(f, f.num_channels)
        return {"channels": f.num_channels, "channel_names": list(f.channel_names), "samples": _per_cell_summary(counts)}
    return {}


def _describe(path: str) -> dict[str, Any]:
    """What ``isx-dask info`` reports about the ``.isxd`` file at ``path``, as a JSON-ready dict."""
    from . import open_isxd

    f: Any = open_isxd(path)
    kind = {"GPIO": "GPIO set", "IMU": "IMU set"}.get(f.type.name, f.type.name.lower().replace("_", " "))
    info: dict[str, Any] = {"path": f.path, "type": kind, "file_size_bytes": f.file_size}
    info.update(_content_info(f, kind))
    if "timingInfo" in f.metadata or hasattr(f, "num_cells") or hasattr(f, "num_channels"):
        info["timing"] = _timing_info(f.timing)
    if "spacingInfo" in f.metadata:
        info["spacing"] = _spacing_info(f.spacing)
    extra = f.extra_properties
    info["extra_properties_keys"] = sorted(extra) if isinstance(extra, dict) else []
    return info


def _counts_line(info: dict[str, Any]) -> str:
    kind = str(info["type"])
    if kind == "movie":
        rows, cols = info["shape"][1:]
        return f"movie, {info['frames']} frames of {rows} x {cols} pixels, {info['dtype']}"
    if kind == "image":
        rows, cols = info["shape"][1:]
        return f"image, {rows} x {cols} pixels, {info['dtype']}"
    if kind == "cell set":
        st = info["statuses"]
        return (f"cell set, {info['cells']} cells ({st['accepted']} accepted, {st['undecided']} undecided, "
                f"{st['rejected']} rejected), {info['num_samples']} samples per trace")
    if kind == "event set":
        ev = info["events"]
        return (f"event set, {info['cells']} cells (channels), {ev['total']} events; per cell min {ev['min']}, "
                f"median {_num(ev['median'])}, max {ev['max']}")
    if kind == "vessel set":
        st = info["statuses"]
        return (f"vessel set ({info['vessel_type']}), {info['vessels']} vessels ({st['accepted']} accepted, "
                f"{st['undecided']} undecided, {st['rejected']} rejected)"
                + (", with correlation heatmaps" if info["correlation_heatmaps"] else ""))
    if "channels" in info:
        names = ", ".join(info["channel_names"][:6]) + (", ..." if len(info["channel_names"]) > 6 else "")
        return f"{kind}, {info['channels']} channels ({names}), {info['samples']['total']} samples"
    return kind


def _info_lines(info: dict[str, Any]) -> Iterator[str]:
    um = _um()
    yield f"{info['path']}: {_counts_line(info)}; {info['file_size_bytes']:,} bytes"
    t = info.get("timing")
    if t is not None and info["type"] != "image":
        # The official API cannot set a start time: files it wrote start at the epoch.
        mark = "; the epoch: no start time was recorded" if t["start"].startswith("1970-01-01T00:00:00") else ""
        rate = f" ({_num(Fraction(t['rate_hz']).limit_denominator(10**6))} Hz)" if t["rate_hz"] else ""
        yield (f"  timing   {t['num_samples']} samples every {_num(Fraction(t['period']))} s{rate}, "
               f"{_num(Fraction(t['duration_s']).limit_denominator(10**6))} s; start {t['start_text']}{mark}")
        invalid = [f"{t['dropped']} dropped {_indices([(i, None) for i in t['dropped_indices']])}" if t["dropped"] else "0 dropped",
                   f"{t['cropped']} cropped {_indices([(a, b) for a, b in t['cropped_ranges']])}" if t["cropped"] else "0 cropped",
                   f"{t['blank']} blank {_indices([(i, None) for i in t['blank_indices']])}" if t["blank"] else "0 blank"]
        yield f"           {', '.join(invalid)}; {t['valid']} valid"
    s = info.get("spacing")
    if s is not None:
        (h, w), (top, left) = s["pixel_size_um"], s["top_left_um"]
        yield (f"  spacing  {s['num_pixels'][0]} x {s['num_pixels'][1]} pixels of {_num(Fraction(h).limit_denominator(10**6))} x "
               f"{_num(Fraction(w).limit_denominator(10**6))} {um}, top left ({_num(Fraction(top).limit_denominator(10**6))}, "
               f"{_num(Fraction(left).limit_denominator(10**6))}) {um}")
    keys = info["extra_properties_keys"]
    yield f"  extra    {', '.join(keys) if keys else 'none'}"


def _info(args: argparse.Namespace) -> int:
    if not os.path.exists(args.path):
        raise FileNotFoundError(f"PATH {args.path!r} does not exist")
    info = _describe(args.path)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for line in _info_lines(info):
            print(line)
    return 0


# -- convert -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceKind:
    """One line of the ``isx-dask convert`` table: a source kind and the public function that converts it.

    Attributes
    ----------
    name : str
        The ``--from`` value.
    function : str
        ``"module:function"``, imported only when used (so a missing module or
        optional extra affects only its own line).
    detect : callable
        Whether a source path looks like this kind.
    produces : str
        What DST is: ``'zarr'``, ``'movie'`` or ``'cell set'`` (with ``--events`` for an event set).
    """

    name: str
    function: str
    detect: Callable[[str], bool]
    produces: str


def _suffix(*suffixes: str) -> Callable[[str], bool]:
    return lambda p: p.lower().rstrip("/\\").endswith(suffixes)


def _holds(*names: str) -> Callable[[str], bool]:
    return lambda p: os.path.isdir(p) and all(os.path.exists(os.path.join(p, n)) for n in names)


def _is_zarr(p: str) -> bool:
    return _suffix(".zarr")(p) or "://" in p or _holds("zarr.json")(p) or _holds(".zgroup")(p) or _holds(".zarray")(p)


def _is_miniscope(p: str) -> bool:
    return os.path.isdir(p) and os.path.exists(os.path.join(p, "metaData.json")) and any(
        n.lower().endswith(".avi") for n in os.listdir(p))


#: The conversion table: one line per source kind. New sources add one line here.
SOURCES: tuple[SourceKind, ...] = (
    SourceKind("isxd", "isx_dask.convert:isxd_to_zarr", _suffix(".isxd"), "zarr"),
    SourceKind("zarr", "isx_dask.convert:zarr_to_isxd", _is_zarr, "movie"),
    SourceKind("tiff", "isx_dask.sources.tiff:tiff_to_isxd", _suffix(".tif", ".tiff"), "movie"),
    SourceKind("miniscope", "isx_dask.sources.miniscope:miniscope_to_isxd", _is_miniscope, "movie"),
    SourceKind("caiman-mmap", "isx_dask.sources.caiman_mmap:caiman_mmap_to_isxd", _suffix(".mmap"), "movie"),
    SourceKind("suite2p", "isx_dask.sources.suite2p:suite2p_to_isxd", _holds("stat.npy", "F.npy"), "cell set"),
    SourceKind("caiman", "isx_dask.sources.caiman:caiman_to_isxd", _suffix(".hdf5"), "cell set"),
    SourceKind("minian", "isx_dask.sources.minian:minian_to_isxd", _holds("A.zarr", "C.zarr"), "cell set"),
    SourceKind("cnmfe", "isx_dask.sources.cnmfe:cnmfe_to_isxd", _suffix("_output.h5"), "cell set"),
)

#: Command-line options of ``convert`` and the converter keyword each one sets.
_OPTIONS = {
    "period": "--period", "pixel_size": "--pixel-size", "dtype": "--dtype", "casting": "--casting",
    "chunks": "--chunks", "compressor": "--compressor", "clevel": "--clevel", "zarr_format": "--zarr-format",
    "event_set_path": "--events", "frame_rate": "--frame-rate", "metadata_from": "--metadata-from",
    "overwrite": "--overwrite", "resume": "--resume",
}


def _find_kind(src: str, name: str | None) -> SourceKind:
    if name is not None:
        return next(k for k in SOURCES if k.name == name)
    matches = [k for k in SOURCES if k.detect(src)]
    if len(matches) == 1:
        return matches[0]
    kinds = ", ".join(k.name for k in SOURCES)
    if not matches:
        raise UsageError(f"cannot tell what kind of source SRC {src!r} is; pass --from KIND ({kinds})")
    raise UsageError(f"SRC {src!r} could be {' or '.join(k.name for k in matches)}; pass --from KIND")


def _load(kind: SourceKind) -> Callable[..., Any]:
    module_name, func_name = kind.function.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name is not None and module_name.startswith(err.name):
            raise UsageError(f"--from {kind.name}: this version of isx_dask has no {kind.name} converter ({module_name})") from None
        raise
    return getattr(module, func_name)  # type: ignore[no-any-return]


def _parse_chunks(text: str) -> Any:
    try:
        parts = [int(p) for p in text.split(",")]
    except ValueError:
        raise UsageError(f"--chunks must be an int or comma-separated ints (e.g. 100 or 100,256,256), got {text!r}") from None
    if any(p <= 0 for p in parts):
        raise UsageError(f"--chunks must be positive, got {text!r}")
    return parts[0] if len(parts) == 1 else tuple(parts)


def _parse_fraction(text: str, option: str) -> Fraction:
    """A positive exact number from ``text`` ('0.05', '1/20', '5e-2') that fits the footer's 64-bit rationals."""
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise UsageError(f"{option} must be a number or a fraction such as 1/20, got {text!r}") from None
    if value <= 0:
        raise UsageError(f"{option} must be > 0, got {text!r}")
    if value.numerator > _INT64_MAX or value.denominator > _INT64_MAX:
        raise UsageError(f"{option} {text} does not fit the file's 64-bit rationals (numerator and denominator "
                         f"at most 2**63 - 1); give fewer digits or a fraction such as 1/30")
    return value


def _given_options(args: argparse.Namespace) -> dict[str, Any]:
    """Converter keywords for the options given on the command line (parsed)."""
    given: dict[str, Any] = {}
    if args.period is not None:
        given["period"] = _parse_fraction(args.period, "--period")
    if args.pixel_size is not None:
        given["pixel_size"] = _parse_fraction(args.pixel_size, "--pixel-size")
    if args.chunks is not None:
        given["chunks"] = _parse_chunks(args.chunks)
    for key in ("dtype", "casting", "compressor", "clevel", "zarr_format"):
        if getattr(args, key) is not None:
            given[key] = getattr(args, key)
    if args.frame_rate is not None:
        given["frame_rate"] = _parse_fraction(args.frame_rate, "--frame-rate")
    if args.metadata_from is not None:
        given["metadata_from"] = args.metadata_from
    if args.events is not None:
        given["event_set_path"] = args.events
    if args.overwrite:
        given["overwrite"] = True
    if args.resume:
        given["resume"] = True
    return given


def _check_options(kind: SourceKind, func: Callable[..., Any], given: dict[str, Any]) -> None:
    """Refuse options the converter does not take, and require the ones it needs."""
    params = inspect.signature(func).parameters
    for key in given:
        if key not in params:
            takes = [option for k, option in _OPTIONS.items() if k in params]
            raise UsageError(f"{_OPTIONS[key]} does not apply to {kind.name} sources (they take {', '.join(takes)})")
    for key, param in params.items():
        if param.kind is param.KEYWORD_ONLY and param.default is param.empty and key not in given:
            option = _OPTIONS.get(key, f"--{key.replace('_', '-')}")
            raise UsageError(f"{kind.name} sources need {option}: their files do not record it")


def _with_options(message: str, params: Collection[str]) -> str:
    """``message``, plus the command-line spelling of the converter keywords it names (``period=`` is ``--period``)."""
    spelled = {f"{key}=": option for key, option in _OPTIONS.items() if key in params}
    if "period" in params:
        spelled["timing="] = "--period"
    if "pixel_size" in params:
        spelled["spacing="] = "--pixel-size"
    named = sorted({option for text, option in spelled.items() if text in message and option not in message})
    return message + (f" [on the command line: {', '.join(named)}]" if named else "")


def _check_paths(src: str, dst: str, kind: SourceKind, events: str | None) -> None:
    """SRC exists and DST (and --events) name what the kind produces."""
    if "://" not in src and not os.path.exists(src):
        raise FileNotFoundError(f"SRC {src!r} does not exist")
    if kind.produces == "zarr":
        if not _suffix(".zarr")(dst) and "://" not in dst:
            raise UsageError(f"DST {dst!r} must end with .zarr (or be a URL): an .isxd source converts to a Zarr group")
        return
    for name, path in (("DST", dst), ("--events", events)):
        if path is not None and not path.lower().endswith(".isxd"):
            raise UsageError(f"{name} {path!r} must end with .isxd (a {kind.name} source converts to .isxd)")
    if events is not None and os.path.abspath(events) == os.path.abspath(dst):
        raise UsageError(f"--events {events!r} is DST itself; give the event set its own file")


def _convert_to_nwb(args: argparse.Namespace) -> int:
    """``convert SRC DST.nwb [--with ISXD ...]``: one NWB file from .isxd files of one session."""
    from . import isxd_to_nwb

    unused = [option for key, option in _OPTIONS.items() if key != "overwrite" and _given_options(args).get(key) is not None]
    if args.source_kind not in (None, "isxd") or unused:
        raise UsageError(f"{', '.join(unused) or '--from'} does not apply to NWB output (DST ending in .nwb)")
    sources = [args.src, *(args.also or [])]
    start = time.perf_counter()
    # No progress bar: the NWB writer computes one block at a time (one bar per block otherwise).
    with _computing(args.scheduler, False, os.path.basename(args.dst)):
        isxd_to_nwb(sources, args.dst, overwrite=args.overwrite,
                    frame_headers="drop" if args.drop_frame_headers else "refuse")
    print(f"Converted {', '.join(sources)} -> {args.dst} (NWB) in {time.perf_counter() - start:.2f} s")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from .convert import check_source_target

    if args.dst.lower().endswith(".nwb"):
        return _convert_to_nwb(args)
    if args.also or args.drop_frame_headers:
        raise UsageError("--with and --drop-frame-headers apply only to NWB output (DST ending in .nwb)")
    kind = _find_kind(args.src, args.source_kind)
    _check_paths(args.src, args.dst, kind, args.events)
    for target, label in ((args.dst, "DST"), (args.events, "--events")):
        if target is not None:
            check_source_target(args.src, target, source_arg="SRC", target_arg=label)
    given = _given_options(args)
    func = _load(kind)
    _check_options(kind, func, given)
    params = inspect.signature(func).parameters
    start = time.perf_counter()
    label = f"{os.path.basename(args.dst.rstrip('/')) or args.dst}"
    try:
        with warnings.catch_warnings(), _computing(args.scheduler, not args.no_progress, label):
            warnings.showwarning = functools.partial(_show_warning, "convert", hint=functools.partial(_with_options, params=params))
            func(args.src, args.dst, **given)
    except (ValueError, TypeError, FileExistsError) as err:
        message = _with_options(str(err), params)
        if message == str(err):
            raise
        raise (FileExistsError(message) if isinstance(err, FileExistsError) else UsageError(message)) from err
    written = args.dst + (f" and {args.events}" if args.events else "")
    print(f"Converted {args.src} ({kind.name}) -> {written} in {time.perf_counter() - start:.2f} s")
    return 0


# -- demo ----------------------------------------------------------------------------------------

#: ``--size`` presets: frames, (rows, cols), cells.
DEMO_SIZES = {
    "tiny": (200, (48, 64), 5),
    "small": (1000, (128, 160), 12),
    "medium": (3000, (256, 320), 40),
    "large": (12000, (400, 640), 80),
}
_IN_MEMORY_NBYTES = 1 << 30  # frames up to this size are synthesised first, so the write is timed alone
_DEMO_FILES = ("demo_movie.isxd", "demo_cellset.isxd", "demo_eventset.isxd")


def _demo_paths(args: argparse.Namespace) -> list[str]:
    out_dir = args.output_dir or os.getcwd()
    if not os.path.isdir(out_dir):
        raise FileNotFoundError(f"--output-dir {out_dir!r} does not exist")
    paths = [os.path.join(out_dir, name) for name in _DEMO_FILES]
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not args.overwrite:
        raise FileExistsError(f"{existing[0]!r} exists; add --overwrite to replace the demo files, or pass --output-dir")
    return paths


def _demo_frames(rec: Any, label: str, progress: bool) -> tuple[Any, float, bool]:
    """The frames to write, the seconds their synthesis took, and whether they were synthesised up front."""
    import dask.array as da

    nbytes = rec.frames.nbytes
    if nbytes > _IN_MEMORY_NBYTES:
        start = time.perf_counter()
        with _Progress(f"{label} (synthesis alone)") if progress else contextlib.nullcontext():
            rec.frames.map_blocks(lambda b: b[:0, :0, :0], dtype=rec.frames.dtype).compute(scheduler="threads")
        return rec.frames, time.perf_counter() - start, False
    start = time.perf_counter()
    frames = rec.frames.compute(scheduler="threads")
    elapsed = time.perf_counter() - start
    return da.from_array(frames, chunks=rec.frames.chunks), elapsed, True  # type: ignore[no-untyped-call]


def _read_back(paths: list[str], rec: Any, frames: Any) -> list[str]:
    """Differences between the files and the synthetic session (empty when identical)."""
    import numpy as np

    from . import open_isxd

    problems = []
    movie: Any = open_isxd(paths[0])
    valid = rec.timing.get_valid_samples()
    if not bool((movie.frames[valid] == frames[valid]).all().compute()):
        problems.append("movie frames differ")
    if list(movie.timing.dropped) != list(rec.timing.dropped) or movie.timing.start != rec.timing.start:
        problems.append("movie timing differs")
    cells: Any = open_isxd(paths[1])
    expected = np.where(rec.timing.get_valid_samples_mask()[None, :], rec.traces, np.float32(np.nan))
    if not np.array_equal(cells.traces.compute(), expected, equal_nan=True):
        problems.append("cell traces differ")
    if not np.array_equal(cells.footprints.compute(), rec.footprints):
        problems.append("cell footprints differ")
    if list(cells.names) != list(rec.cell_names):
        problems.append("cell names differ")
    events: Any = open_isxd(paths[2])
    for k, (offsets, amplitudes) in enumerate(events.get_all_cell_data()):
        if not (np.array_equal(offsets, rec.event_offsets[k]) and np.array_equal(amplitudes, rec.event_amplitudes[k])):
            problems.append(f"events of cell {rec.cell_names[k]} differ")
            break
    return problems


def _demo(args: argparse.Namespace) -> int:
    from . import write_cell_set, write_event_set, write_movie
    from .examples import synthetic_recording

    num_samples, shape, num_cells = DEMO_SIZES[args.size]
    paths = _demo_paths(args)
    dropped = sorted({num_samples // 7, num_samples // 3, num_samples // 3 + 1, (2 * num_samples) // 3})
    rec = synthetic_recording(num_samples, shape, num_cells, seed=args.seed, dropped=dropped)
    t = rec.timing
    print(f"Synthetic session: {num_samples} frames of {shape[0]} x {shape[1]} uint16 at "
          f"{_num(1 / t.period.to_fraction())} Hz ({_num(t.period.to_fraction() * num_samples)} s), "
          f"{num_cells} cells, start {_start_text(t.start.secs_since_epoch.to_fraction(), t.start.utc_offset)[0]}, "
          f"frames {', '.join(map(str, t.dropped))} dropped")
    progress = not args.no_progress
    frames, synth_s, up_front = _demo_frames(rec, "synthesis", progress)
    stored_nbytes = rec.frames.nbytes // num_samples * t.num_valid_samples
    start = time.perf_counter()
    with _Progress("demo_movie.isxd") if progress else contextlib.nullcontext():
        write_movie(frames, paths[0], timing=t, spacing=rec.spacing, overwrite=args.overwrite)
    write_s = time.perf_counter() - start
    write_cell_set(rec.footprints, rec.traces, paths[1], timing=t, spacing=rec.spacing, cell_names=list(rec.cell_names),
                   statuses=["accepted"] * num_cells, overwrite=args.overwrite)
    write_event_set(rec.event_offsets, rec.event_amplitudes, paths[2], timing=t, cell_names=list(rec.cell_names),
                    overwrite=args.overwrite)
    if up_front:
        speed = f"{_mib(stored_nbytes)} in {write_s:.2f} s: {stored_nbytes / 2**20 / write_s:.0f} MiB/s, the writer alone"
    else:
        alone = max(write_s - synth_s, 1e-9)
        speed = (f"{_mib(stored_nbytes)} in {write_s:.2f} s with synthesis; about "
                 f"{stored_nbytes / 2**20 / alone:.0f} MiB/s for the writer alone")
    print(f"Synthesised the frames in {synth_s:.2f} s ({rec.frames.nbytes / 2**20 / synth_s:.0f} MiB/s, not counted below)")
    print(f"Wrote {paths[0]} ({speed})")
    print(f"Wrote {paths[1]} ({num_cells} cells) and {paths[2]} ({rec.num_events} events)")
    problems = _read_back(paths, rec, frames)
    if problems:
        print(f"Read back: {'; '.join(problems)}", file=sys.stderr)
        return 1
    print("Read back: frames, traces, footprints, names and events identical to the synthetic session; "
          "see them with `isx-dask info PATH` or isx_dask.open_isxd(PATH)")
    return 0


# -- parser and main ---------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit code 2) that point to ``--help``."""

    def error(self, message: str) -> Any:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _scheduler(text: str) -> str:
    if text in ("threads", "processes", "synchronous", "sync") or "://" in text:
        return text
    msg = f"expected threads, processes, synchronous or a dask.distributed address such as tcp://HOST:PORT, got {text!r}"
    raise argparse.ArgumentTypeError(msg)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_demo(sub: Any) -> None:
    demo = sub.add_parser(
        "demo", help="write a small synthetic session (movie, cell set, event set), read it back, report the speed",
        description="Write demo_movie.isxd, demo_cellset.isxd and demo_eventset.isxd (a synthetic session with a real "
                    "start time and a few dropped frames) into the current directory or --output-dir, read them back, "
                    "and print what was written and the writer's own speed.",
    )
    demo.add_argument("--output-dir", help="where to write the three demo files (default: the current directory)")
    demo.add_argument("--size", choices=list(DEMO_SIZES), default="small",
                      help="tiny (1 MiB, a quick check), small (default, 40 MiB), medium (470 MiB) "
                           "or large (5.9 GiB, synthesised and written out of core)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--overwrite", action="store_true", help="replace demo files left by an earlier run")
    demo.add_argument("--no-progress", action="store_true", help="do not show progress")
    demo.set_defaults(func=_demo)


def _add_info(sub: Any) -> None:
    info = sub.add_parser("info", help="describe an .isxd file: counts, statuses, timing, spacing, extra properties",
                          description="Describe an .isxd file of any type.")
    info.add_argument("path", metavar="PATH", help=".isxd file")
    info.add_argument("--json", action="store_true", help="print the description as JSON (for scripts)")
    info.set_defaults(func=_info)


def _add_convert(sub: Any) -> None:
    kinds = [k.name for k in SOURCES]
    conv = sub.add_parser(
        "convert", help="convert .isxd -> Zarr or NWB, or Zarr, TIFF, Miniscope, CaImAn, suite2p, ... -> .isxd",
        description="Convert SRC to DST. The kind of SRC is detected from its name (.isxd, .zarr or a URL, .tif, .mmap, "
                    "a suite2p plane folder, ...) or given with --from. An .isxd source becomes a Zarr group; every other "
                    "source becomes an .isxd movie, or a cell set (and, with --events, an event set). A DST ending in .nwb "
                    "gets the .isxd SRC (and every --with file) as one NWB file.",
    )
    conv.add_argument("src", metavar="SRC", help="source file, folder or URL")
    conv.add_argument("dst", metavar="DST", help="destination: a .zarr path (from .isxd), otherwise an .isxd file")
    conv.add_argument("--from", dest="source_kind", choices=kinds, metavar="KIND", help=f"kind of SRC: {', '.join(kinds)}")
    conv.add_argument("--events", metavar="PATH", help="also write an event set here (cell-set sources)")
    conv.add_argument("--with", dest="also", action="append", metavar="ISXD",
                      help="NWB output: another .isxd file of the same session (cell set, event set, movie); repeatable")
    conv.add_argument("--drop-frame-headers", action="store_true",
                      help="NWB output: convert a movie with sensor frame headers without them (refused otherwise)")
    conv.add_argument("--period", help="sample period in seconds, e.g. 0.05 or 1/20 (replaces only the period)")
    conv.add_argument("--pixel-size", help="pixel size in microns (replaces only the pixel size)")
    conv.add_argument("--frame-rate", help="frames per second of the traces, e.g. 20 or 30000/1001 (cell-set sources)")
    conv.add_argument("--metadata-from", metavar="MOVIE", help="an .isxd movie whose timing and spacing to use (cell-set sources)")
    conv.add_argument("--dtype", choices=["uint16", "float32", "uint8"], help="pixel type to store")
    conv.add_argument("--casting", choices=["same_value", "no", "equiv", "safe", "same_kind", "unsafe"],
                      help="which casts to --dtype are allowed (default same_value: only if every value survives; "
                           "unsafe lets values change)")
    conv.add_argument("--chunks", help="Zarr chunks: frames (or cells) per chunk, or comma-separated sizes (default about 16 MiB)")
    conv.add_argument("--compressor", choices=["zstd", "lz4", "none"], help="Blosc codec of the Zarr arrays (default zstd)")
    conv.add_argument("--clevel", type=int, choices=range(10), metavar="0-9", help="compression level (default 5)")
    conv.add_argument("--zarr-format", type=int, choices=[2, 3], help="Zarr format to write (default: 3 with zarr-python 3; 2 with zarr-python 2, i.e. Python 3.10)")
    conv.add_argument("--overwrite", action="store_true", help="replace DST if it exists (only once the new one is complete)")
    conv.add_argument("--resume", action="store_true",
                      help="make the .isxd write resumable: run the same command again after an interruption to write only the missing chunks")
    conv.add_argument("--scheduler", type=_scheduler,
                      help="threads (default), processes, synchronous, or a dask.distributed address tcp://HOST:PORT")
    conv.add_argument("--no-progress", action="store_true", help="do not show progress")
    conv.set_defaults(func=_convert)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``isx-dask``."""
    from . import __version__

    parser = _Parser(prog="isx-dask", description="Write, convert and inspect Inscopix .isxd files with Dask.")
    parser.add_argument("--version", action="version", version=f"isx-dask (isx_dask) {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    _add_demo(sub)
    _add_info(sub)
    _add_convert(sub)
    return parser


#: Errors that mean the command as given cannot run: exit code 2.
_USAGE_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError,
                 ValueError, TypeError, NotImplementedError, ImportError)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``isx-dask`` with ``argv`` (default: the process arguments); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 2
    if args.command is None:
        parser.print_help(sys.stderr)
        print("\nisx-dask: error: a command is needed (demo, info or convert); "
              "see isx-dask COMMAND --help", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.showwarning = functools.partial(_show_warning, args.command)
            return int(args.func(args))
    except _USAGE_ERRORS as err:
        print(f"isx-dask {args.command}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"isx-dask {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the command line reports every failure
        print(f"isx-dask {args.command}: failed: {type(err).__name__}: {_one_line(err)}", file=sys.stderr)
        return 1


def _show_warning(command: str, message: Warning | str, category: type[Warning], *args: Any,
                  hint: Callable[[str], str] | None = None, **kwargs: Any) -> None:
    """A warning as one line on stderr: ``isx-dask COMMAND: warning: ...``."""
    text = " ".join(str(message).split())
    print(f"isx-dask {command}: warning: {hint(text) if hint is not None else text}", file=sys.stderr)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__
