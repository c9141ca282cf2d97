"""Strict parsing of the footer fields shared by every data set type.

A footer comes from a file, so every value is checked before it is used: integers
must be JSON integers (or floats with no fraction, which the official reader also
accepts) within the format's 64-bit range, never strings or booleans; ratios must
have a non-zero denominator; index lists must lie inside ``[0, numTimes)``.
Invalid-index ranges stay ranges: ``cropped: ["0 - 999999999"]`` costs two
integers, never a set of a billion indices. Every failure is an
:class:`~isx_dask.layout.IsxdFormatError` naming the key and what was expected.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, Mapping, Sequence

import numpy as np

from ..metadata import Duration, Spacing, Time, Timing
from . import IsxdFormatError

__all__ = [
    "INT64_MAX",
    "footer_int",
    "footer_keys",
    "footer_list",
    "footer_mapping",
    "footer_ratio",
    "footer_timing_spacing",
    "invalid_intervals",
    "parse_spacing_info",
    "parse_time",
    "parse_timing_info",
]

#: Largest value of the footer's signed 64-bit integers.
INT64_MAX = 2**63 - 1
#: Largest value of the footer's unsigned 64-bit integers.
UINT64_MAX = 2**64 - 1
#: The core asserts ``|utcOffset| <= 14 h``.
_MAX_UTC_OFFSET = 50400
_CROPPED_TEXT = re.compile(r"^\s*(\d+)\s*(?:[^\d\s]{1,2}\s*(\d+)\s*)?$")


def footer_mapping(value: Any, name: str) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else :class:`IsxdFormatError` naming ``name``."""
    if not isinstance(value, Mapping):
        msg = f"footer key {name!r} must be a JSON object, got {_show(value)}"
        raise IsxdFormatError(msg)
    return value


def footer_list(value: Any, name: str) -> list[Any]:
    """``value`` if it is a JSON array, else :class:`IsxdFormatError` naming ``name``."""
    if not isinstance(value, list):
        msg = f"footer key {name!r} must be a JSON array, got {_show(value)}"
        raise IsxdFormatError(msg)
    return value


def footer_int(value: Any, name: str, *, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    """A footer integer, checked.

    JSON integers are taken as they are; a float with no fraction (``3.0``) is
    taken as the integer it equals, as the official reader does. Strings,
    booleans, null, fractions and values outside ``[minimum, maximum]`` are refused.

    Raises
    ------
    IsxdFormatError
        Naming ``name``, the value and the expected range.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"footer key {name!r} must be an integer, got {_show(value)}"
        raise IsxdFormatError(msg)
    if isinstance(value, float):
        if not value.is_integer():
            msg = f"footer key {name!r} must be an integer, got the fraction {value!r}"
            raise IsxdFormatError(msg)
        value = int(value)
    if not minimum <= value <= maximum:
        msg = f"footer key {name!r} is {_show(value)}; expected an integer in [{minimum}, {maximum}]"
        raise IsxdFormatError(msg)
    return int(value)


def footer_keys(obj: Mapping[str, Any], keys: Sequence[str], where: str, expected: str = "") -> None:
    """``IsxdFormatError`` naming the first of ``keys`` that ``obj`` lacks: ``"<where> has no 'key'<expected>"``."""
    for key in keys:
        if key not in obj:
            msg = f"{where} has no {key!r}{expected}"
            raise IsxdFormatError(msg)


def footer_timing_spacing(metadata: Mapping[str, Any], keys: Sequence[str], where: str) -> tuple[Timing, Spacing]:
    """``timingInfo`` and ``spacingInfo`` of a footer that must also hold ``keys`` (checked first, in that order)."""
    footer_keys(metadata, ("timingInfo", "spacingInfo", *keys), where)
    return parse_timing_info(metadata["timingInfo"]), parse_spacing_info(metadata["spacingInfo"])


def footer_ratio(value: Any, name: str) -> tuple[int, int]:
    """A footer ratio ``{"num": int64, "den": int64}`` as ``(num, den)`` with ``den > 0``."""
    obj = footer_mapping(value, name)
    footer_keys(obj, ("num", "den"), f"footer key {name!r}", "; expected {'num': int, 'den': int}")
    num = footer_int(obj["num"], f"{name}.num", minimum=-INT64_MAX - 1)
    den = footer_int(obj["den"], f"{name}.den", minimum=-INT64_MAX - 1)
    if den == 0:
        msg = f"footer key {name!r} has a zero denominator ({num}/0)"
        raise IsxdFormatError(msg)
    if den < 0:
        num, den = -num, -den
    return num, den


def parse_time(value: Any, name: str) -> Time:
    """A footer time ``{"secsSinceEpoch": ratio, "utcOffset": int}``."""
    obj = footer_mapping(value, name)
    footer_keys(obj, ("secsSinceEpoch", "utcOffset"), f"footer key {name!r}")
    num, den = footer_ratio(obj["secsSinceEpoch"], f"{name}.secsSinceEpoch")
    offset = footer_int(obj["utcOffset"], f"{name}.utcOffset", minimum=-_MAX_UTC_OFFSET, maximum=_MAX_UTC_OFFSET)
    return Time(Duration(num, den), offset)


def _index_array(value: Any, name: str, num_samples: int) -> np.ndarray[Any, Any]:
    items = footer_list(value if value is not None else [], name)
    out = np.empty(len(items), dtype=np.int64)
    for k, item in enumerate(items):
        out[k] = footer_int(item, f"{name}[{k}]", maximum=max(num_samples - 1, 0))
    if num_samples == 0 and len(items):
        msg = f"footer key {name!r} lists sample {int(out[0])}, but numTimes is 0"
        raise IsxdFormatError(msg)
    return out


def _cropped_ranges(value: Any, num_samples: int) -> np.ndarray[Any, Any]:
    """Sorted, merged ``(first, last)`` rows of the cropped ranges, as an ``(n, 2)`` int64 array."""
    items = footer_list(value if value is not None else [], "timingInfo.cropped")
    ranges: np.ndarray[Any, Any] = np.empty((len(items), 2), dtype=np.int64)
    for k, item in enumerate(items):
        label = f"timingInfo.cropped[{k}]"
        if isinstance(item, str):
            match = _CROPPED_TEXT.match(item)
            if match is None:
                msg = f"footer key {label!r} is {_show(item)}; expected 'first - last' or 'index'"
                raise IsxdFormatError(msg)
            first = int(match.group(1))
            last = int(match.group(2)) if match.group(2) is not None else first
        elif isinstance(item, list) and len(item) == 2:
            first, last = item
        else:
            msg = f"footer key {label!r} is {_show(item)}; expected a string 'first - last'"
            raise IsxdFormatError(msg)
        top = max(num_samples - 1, 0)
        first = footer_int(first, f"{label} first", maximum=top)
        last = footer_int(last, f"{label} last", maximum=top)
        if num_samples == 0 or first > last:
            msg = f"footer key {label!r} is {_show(item)}; expected first <= last < numTimes={num_samples}"
            raise IsxdFormatError(msg)
        ranges[k] = first, last
    if len(ranges) == 0:
        return ranges
    ranges = ranges[np.argsort(ranges[:, 0], kind="stable")]
    merged = [ranges[0].tolist()]
    for first, last in ranges[1:].tolist():
        if first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    out: np.ndarray[Any, Any] = np.asarray(merged, dtype=np.int64).reshape(-1, 2)
    return out


def _inside(ranges: np.ndarray[Any, Any], indices: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Whether each of ``indices`` lies inside one of the sorted, disjoint ``ranges``."""
    if len(ranges) == 0 or len(indices) == 0:
        return np.zeros(len(indices), dtype=bool)
    k = np.searchsorted(ranges[:, 0], indices, side="right") - 1
    safe = np.clip(k, 0, None)
    inside: np.ndarray[Any, Any] = (k >= 0) & (indices <= ranges[safe, 1])
    return inside


def parse_timing_info(value: Any, name: str = "timingInfo") -> Timing:
    """The footer's ``timingInfo`` as a :class:`Timing`, in memory bounded by the footer's length.

    The index lists are normalised as :class:`Timing` normalises them (cropped ranges
    sorted and merged, blank indices inside cropped ranges dropped, dropped indices
    that are cropped or blank dropped, duplicates removed), with NumPy on the
    ranges, never by listing the indices a range covers.

    Raises
    ------
    IsxdFormatError
        If a key is missing or malformed, or an index is out of range.
    """
    obj = footer_mapping(value, name)
    footer_keys(obj, ("numTimes", "period", "start"), f"footer key {name!r}")
    n = footer_int(obj["numTimes"], f"{name}.numTimes")
    num, den = footer_ratio(obj["period"], f"{name}.period")
    if num <= 0:
        msg = f"footer key '{name}.period' is {num}/{den}; expected a period > 0 seconds"
        raise IsxdFormatError(msg)
    start = parse_time(obj["start"], f"{name}.start")
    cropped = _cropped_ranges(obj.get("cropped"), n)
    blank = np.unique(_index_array(obj.get("blank"), f"{name}.blank", n))
    blank = blank[~_inside(cropped, blank)]
    dropped = np.unique(_index_array(obj.get("dropped"), f"{name}.dropped", n))
    dropped = dropped[~_inside(cropped, dropped) & ~np.isin(dropped, blank)]
    timing = Timing(num_samples=n, period=Duration(num, den), start=start)
    # Timing's own constructor expands cropped ranges into sets of indices; the
    # lists here are already normalised exactly as it would, so set them directly.
    object.__setattr__(timing, "cropped", tuple((int(a), int(b)) for a, b in cropped.tolist()))
    object.__setattr__(timing, "blank", tuple(blank.tolist()))
    object.__setattr__(timing, "dropped", tuple(dropped.tolist()))
    return timing


def invalid_intervals(timing: Timing) -> np.ndarray[Any, Any]:
    """The invalid samples of ``timing`` as sorted, disjoint, inclusive ``(first, last)`` rows.

    Dropped and blank indices become one-sample rows; cropped ranges stay whole.
    Memory grows with the number of list entries, never with ``num_samples``.
    """
    singles = np.asarray(list(timing.dropped) + list(timing.blank), dtype=np.int64)
    rows = [np.stack([singles, singles], axis=1)] if singles.size else []
    if timing.cropped:
        rows.append(np.asarray(timing.cropped, dtype=np.int64).reshape(-1, 2))
    if not rows:
        return np.empty((0, 2), dtype=np.int64)
    out = np.concatenate(rows)
    return out[np.argsort(out[:, 0], kind="stable")]


def parse_spacing_info(value: Any, name: str = "spacingInfo") -> Spacing:
    """The footer's ``spacingInfo`` as a :class:`Spacing`."""
    obj = footer_mapping(value, name)
    footer_keys(obj, ("numPixels", "pixelSize", "topLeft"), f"footer key {name!r}")
    num = footer_mapping(obj["numPixels"], f"{name}.numPixels")
    size = footer_mapping(obj["pixelSize"], f"{name}.pixelSize")
    top = footer_mapping(obj["topLeft"], f"{name}.topLeft")
    for part, label in ((num, "numPixels"), (size, "pixelSize"), (top, "topLeft")):
        for axis in ("x", "y"):
            if axis not in part:
                msg = f"footer key '{name}.{label}' has no {axis!r}"
                raise IsxdFormatError(msg)
    rows = footer_int(num["y"], f"{name}.numPixels.y")
    cols = footer_int(num["x"], f"{name}.numPixels.x")
    if rows * cols > INT64_MAX:
        msg = f"footer key '{name}.numPixels' is {rows} x {cols}: more pixels than a 64-bit size holds"
        raise IsxdFormatError(msg)
    pixel = [Fraction(*footer_ratio(size[a], f"{name}.pixelSize.{a}")) for a in ("y", "x")]
    if min(pixel) <= 0:
        msg = f"footer key '{name}.pixelSize' is {pixel[0]} x {pixel[1]}; expected sizes > 0 microns"
        raise IsxdFormatError(msg)
    corner = [Fraction(*footer_ratio(top[a], f"{name}.topLeft.{a}")) for a in ("y", "x")]
    return Spacing(num_pixels=(rows, cols), pixel_size=(pixel[0], pixel[1]), top_left=(corner[0], corner[1]))


def _show(value: Any) -> str:
    """A short repr of a footer value for error messages (long values are cut)."""
    if isinstance(value, list) and len(value) > 8:
        return f"an array of {len(value)} items"
    if isinstance(value, Mapping) and len(value) > 8:
        return f"an object of {len(value)} keys"
    try:
        text = repr(value)
    except RecursionError:
        return f"a deeply nested {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."
