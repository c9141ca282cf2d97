"""What every source converter shares: a lazy recording, exact units, optional imports, and the write.

A converter reads its format into a :class:`Recording` (frames as a Dask array
plus :class:`~isx_dask.Timing` and :class:`~isx_dask.Spacing`) and hands it to
:func:`write_recording`, which is one call of :func:`isx_dask.write_movie`.
Nothing here reads pixels.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from fractions import Fraction
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from .._units import MICRONS_PER, SECONDS_PER
from ..metadata import Duration, Spacing, Time, Timing
from ..target import Reserve, WriteMethod
from ..writers._validate import DEFAULT_CASTING
from ..writers.movie import write_movie

if TYPE_CHECKING:
    from dask.delayed import Delayed

__all__ = [
    "DEFAULT_CASTING",
    "PathLike",
    "Recording",
    "Reserve",
    "WriteMethod",
    "as_duration",
    "as_pixel_size",
    "exact",
    "frames_per_chunk",
    "MetadataFrom",
    "apply_metadata_from",
    "import_optional",
    "length_to_microns",
    "make_timing",
    "place_frames",
    "read_metadata_from",
    "time_to_seconds",
    "write_recording",
]

PathLike = str | os.PathLike[str]

#: Micrometres per unit, for the length units that OME and ImageJ name.
_MICRONS_PER = MICRONS_PER

#: Seconds per unit, for the time units that OME names.
_SECONDS_PER = SECONDS_PER


def import_optional(module: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or raise an ImportError that names the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        msg = f"{purpose} needs the optional package {module!r}; install it with: pip install \"isx_dask[{extra}]\""
        raise ImportError(msg) from err


def exact(value: Any, name: str) -> Fraction:
    """A number read from a file (text, int, float or Fraction) as an exact rational.

    Floats are taken by their shortest decimal text (``0.1`` is 1/10), which is
    what the writing program printed.
    """
    if isinstance(value, bool):
        msg = f"{name} must be a number, got {value!r}"
        raise ValueError(msg)
    try:
        if isinstance(value, float):
            return Fraction(repr(float(value)))  # np.float64 is a float whose repr is "np.float64(...)"
        if isinstance(value, (int, Fraction)):
            return Fraction(value)
        return Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        msg = f"{name} must be a finite number, got {value!r}"
        raise ValueError(msg) from None


def length_to_microns(value: Any, unit: str, name: str) -> Fraction:
    """``value`` in ``unit`` as exact micrometres; ValueError for an unknown unit."""
    key = unit.strip()
    scale = _MICRONS_PER.get(key, _MICRONS_PER.get(key.lower()))
    if scale is None:
        msg = f"{name} has the unit {unit!r}, which is not a length unit this reader knows ({', '.join(_MICRONS_PER)}); pass pixel_size= in microns"
        raise ValueError(msg)
    return exact(value, name) * scale


def time_to_seconds(value: Any, unit: str, name: str) -> Fraction:
    """``value`` in ``unit`` as exact seconds; ValueError for an unknown unit."""
    scale = _SECONDS_PER.get(unit.strip())
    if scale is None:
        msg = f"{name} has the unit {unit!r}, which is not a time unit this reader knows ({', '.join(_SECONDS_PER)}); pass period="
        raise ValueError(msg)
    return exact(value, name) * scale


def as_duration(period: Any, name: str = "period") -> Duration:
    """A user's ``period`` (Duration, Fraction, int or float seconds) as a positive Duration."""
    if isinstance(period, Duration):
        out = period
    else:
        try:
            out = Duration.from_secs(period)
        except TypeError:
            msg = f"{name} must be a Duration or a number of seconds (a Fraction for exact values), got {period!r}"
            raise TypeError(msg) from None
        except ValueError as err:
            msg = f"{name} must be a finite number of seconds > 0 that fits a 64-bit rational, got {period!r} ({err})"
            raise ValueError(msg) from None
    if out.to_fraction() <= 0:
        msg = f"{name} must be > 0 seconds, got {out.num}/{out.den}"
        raise ValueError(msg)
    return out


def as_pixel_size(pixel_size: Any) -> tuple[Fraction, Fraction]:
    """A user's ``pixel_size`` (one number or a (height, width) pair, microns) as exact fractions."""
    return Spacing(num_pixels=(0, 0), pixel_size=pixel_size).pixel_size


@dataclass(frozen=True)
class Recording:
    """A source read lazily: frames plus the metadata of the movie they become.

    Parameters
    ----------
    frames : dask.array.Array, shape (num_samples, rows, cols)
        One frame per time slot, including slots of dropped frames (zeros there;
        the writer does not store them).
    timing : Timing
        Samples, exact period, start, dropped frames.
    spacing : Spacing
        Frame shape and pixel size.
    extra_properties : JSON-serialisable or None
        Acquisition metadata for the footer.
    name : str
        The source, as messages name it.
    """

    frames: Any
    timing: Timing
    spacing: Spacing
    extra_properties: Any
    name: str


def frames_per_chunk(shape: tuple[int, int, int], dtype: Any) -> int:
    """Frames per Dask chunk: whole frames, as many as dask's ``array.chunk-size`` setting allows."""
    from dask.array.core import normalize_chunks

    chunks = normalize_chunks(("auto", -1, -1), shape=shape, dtype=np.dtype(dtype))  # type: ignore[no-untyped-call]
    return max(1, int(chunks[0][0])) if shape[0] else 1


def place_frames(saved: Any, slots: Any, num_samples: int) -> Any:
    """The Dask array ``saved`` spread over ``num_samples`` time slots: frame k at ``slots[k]``, zeros elsewhere.

    ``slots`` is ascending. The zeros stand for frames that are not stored
    (dropped, cropped or blank); the writer leaves them out.
    """
    import dask.array as da

    slots = [int(s) for s in slots]
    if len(slots) != saved.shape[0] or any(b <= a for a, b in zip(slots, slots[1:])) or (slots and not 0 <= slots[0] <= slots[-1] < num_samples):
        msg = f"slots must be {saved.shape[0]} ascending indices below {num_samples}"
        raise ValueError(msg)
    if slots == list(range(num_samples)):
        return saved
    frame = tuple(saved.shape[1:])

    def zeros(count: int) -> Any:
        return da.zeros((count, *frame), dtype=saved.dtype, chunks=(count, *frame))

    parts = []
    run_start, previous = 0, -1
    for k, slot in enumerate(slots):
        if slot != previous + 1:
            if k > run_start:
                parts.append(saved[run_start:k])
            parts.append(zeros(slot - previous - 1))
            run_start = k
        previous = slot
    if len(slots) > run_start:
        parts.append(saved[run_start:])
    if previous < num_samples - 1:
        parts.append(zeros(num_samples - 1 - previous))
    return da.concatenate(parts, axis=0)  # type: ignore[no-untyped-call]


def make_timing(num_samples: int, period: Duration, start: Time | None, dropped: Any = ()) -> Timing:
    """Timing of a converted recording (start at the epoch when the source has none)."""
    return Timing(num_samples=num_samples, period=period, start=start if start is not None else Time(), dropped=tuple(dropped))


@dataclass(frozen=True)
class MetadataFrom:
    """What an existing ``.isxd`` movie given as ``metadata_from`` supplies to a conversion."""

    path: str
    timing: Timing
    spacing: Spacing
    extra_properties: Any


def read_metadata_from(metadata_from: PathLike | None) -> MetadataFrom | None:
    """The timing, spacing and extra properties of the ``.isxd`` movie ``metadata_from`` (None if not given)."""
    if metadata_from is None:
        return None
    from ..readers import MovieFile, open_isxd

    source = open_isxd(metadata_from)
    if not isinstance(source, MovieFile):
        msg = f"metadata_from must be an .isxd movie, got a {type(source).__name__} ({os.fspath(metadata_from)!r})"
        raise ValueError(msg)
    return MetadataFrom(os.fspath(metadata_from), source.timing, source.spacing, source.extra_properties)


def apply_metadata_from(recording: Recording, source: MetadataFrom | None, extra_properties: Any) -> Recording:
    """``recording`` with the invalid frames, and (unless ``extra_properties`` is given) the extra properties, of ``source``.

    The recording's frames are either all of the source's samples, or only its
    valid ones (as exported by tools that skip dropped, cropped and blank
    frames), which are then put back at their time slots.
    """
    extra = recording.extra_properties if extra_properties is None else extra_properties
    if source is None:
        return Recording(recording.frames, recording.timing, recording.spacing, extra, recording.name)
    if extra_properties is None and source.extra_properties is not None:
        extra = source.extra_properties
    src, frames = source.timing, recording.frames
    count = int(frames.shape[0])
    if count == src.num_samples:
        pass
    elif count == src.num_valid_samples:
        frames = place_frames(frames, src.get_valid_samples(), src.num_samples)
    else:
        msg = (
            f"{recording.name!r} has {count} frames, but metadata_from {source.path!r} has {src.num_samples} samples "
            f"({src.num_valid_samples} valid); its timing applies only to a movie of either length "
            f"(pass period=, pixel_size= and start= instead)"
        )
        raise ValueError(msg)
    timing = Timing(src.num_samples, recording.timing.period, recording.timing.start, src.dropped, src.cropped, src.blank)
    return Recording(frames, timing, recording.spacing, extra, recording.name)


def write_recording(
    recording: Recording,
    path: PathLike,
    *,
    dtype: Any,
    casting: str,
    overwrite: bool,
    compute: bool,
    fsync: bool,
    resume: bool,
    reserve: Reserve,
    write_method: WriteMethod,
    compute_kwargs: dict[str, Any] | None,
) -> Delayed | None:
    """Write ``recording`` through :func:`isx_dask.write_movie` (validation happens there, before any byte)."""
    options: dict[str, Any] = {
        "timing": recording.timing,
        "spacing": recording.spacing,
        "extra_properties": recording.extra_properties,
        "dtype": dtype,
        "casting": casting,
        "overwrite": overwrite,
        "compute": compute,
        "fsync": fsync,
        "resume": resume,
        "reserve": reserve,
        "write_method": write_method,
        "compute_kwargs": compute_kwargs,
    }
    writer: Any = write_movie
    result: Delayed | None = writer(recording.frames, path, **options)
    return result
