"""Metadata types of ``.isxd`` files: durations, times, sample timing and pixel spacing.

These mirror the official ``isx`` types (``isx.Duration``, ``isx.Time``,
``isx.Timing``, ``isx.Spacing``) so that code switches by changing an import,
but they are frozen, validated on construction, exact (rationals, never floats)
and round-trip through the JSON footer with :meth:`to_dict` / :meth:`from_dict`.
"""

from __future__ import annotations

import datetime as _dt
import numbers
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Literal, Mapping, Sequence, Union

import numpy as np

__all__ = [
    "CellStatus",
    "Duration",
    "Spacing",
    "Time",
    "Timing",
    "VesselType",
]

#: Status of a cell (or vessel) as the official API names it.
CellStatus = Literal["accepted", "undecided", "rejected"]
#: Kind of vessel set as the official API names it.
VesselType = Literal["vessel diameter", "rbc velocity"]

RationalLike = Union[int, float, Fraction, "Duration", np.integer, np.floating]

MAX_UTC_OFFSET_SECS = 50400  # the core asserts |utcOffset| <= 14 h


def _ratio_dict(num: int, den: int) -> dict[str, int]:
    return {"num": int(num), "den": int(den)}


def _parse_ratio(value: Any, name: str) -> tuple[int, int]:
    """Return ``(num, den)`` for a rational-like value, exactly where possible."""
    if isinstance(value, Duration):
        return value.num, value.den
    if isinstance(value, Mapping):
        try:
            num, den = value["num"], value["den"]
        except KeyError:
            msg = f"{name} must have integer 'num' and 'den' keys, got {dict(value)!r}"
            raise ValueError(msg) from None
        return _int_pair(num, den, name)
    if isinstance(value, tuple) and len(value) == 2:
        return _int_pair(value[0], value[1], name)
    if isinstance(value, Fraction):
        return value.numerator, value.denominator
    if isinstance(value, (bool, np.bool_)):
        msg = f"{name} must be a number, got {value!r}"
        raise TypeError(msg)
    if isinstance(value, numbers.Integral):
        return int(value), 1
    if isinstance(value, numbers.Real):
        flt = float(value)
        if not np.isfinite(flt):
            msg = f"{name} must be finite, got {flt!r}"
            raise ValueError(msg)
        frac = Fraction(flt).limit_denominator(10**9)
        return frac.numerator, frac.denominator
    msg = f"{name} must be a number, a Fraction, a Duration or a (num, den) pair, got {value!r}"
    raise TypeError(msg)


def _int_pair(num: Any, den: Any, name: str) -> tuple[int, int]:
    for part, label in ((num, "numerator"), (den, "denominator")):
        if isinstance(part, (bool, np.bool_)) or not isinstance(part, numbers.Integral):
            msg = f"{name} {label} must be an integer, got {part!r}"
            raise TypeError(msg)
    if int(den) == 0:
        msg = f"{name} has a zero denominator ({num}/{den}); expected a non-zero denominator"
        raise ValueError(msg)
    if int(den) < 0:
        return -int(num), -int(den)
    return int(num), int(den)


@dataclass(frozen=True, eq=False)
class Duration:
    """An exact length of time in seconds, stored as the rational ``num / den``.

    The rational is kept as given (``Duration.from_msecs(50)`` is ``50/1000``),
    as the official writer stores it; equality compares values, so
    ``Duration(1, 20) == Duration.from_msecs(50)``.

    Parameters
    ----------
    num : int
        Numerator, in seconds.
    den : int, default 1
        Denominator; must not be zero.

    Examples
    --------
    >>> Duration.from_msecs(50)
    Duration(50, 1000)
    >>> Duration.from_secs(Fraction(1, 30)).secs_float
    0.03333333333333333
    """

    num: int
    den: int = 1

    def __post_init__(self) -> None:
        num, den = _int_pair(self.num, self.den, "Duration")
        object.__setattr__(self, "num", num)
        object.__setattr__(self, "den", den)

    @classmethod
    def from_secs(cls, secs: RationalLike) -> Duration:
        """Make a duration from seconds (int, Fraction, or float; never truncated).

        A float is converted to the nearest rational with a denominator of at
        most 10**9. Pass a :class:`fractions.Fraction` for exact values such as 1/30.
        """
        return cls(*_parse_ratio(secs, "secs"))

    @classmethod
    def from_msecs(cls, msecs: RationalLike) -> Duration:
        """Make a duration from milliseconds; integers are stored as ``msecs/1000``."""
        num, den = _parse_ratio(msecs, "msecs")
        return cls(num, den * 1000)

    @classmethod
    def from_usecs(cls, usecs: RationalLike) -> Duration:
        """Make a duration from microseconds; integers are stored as ``usecs/1000000``."""
        num, den = _parse_ratio(usecs, "usecs")
        return cls(num, den * 1_000_000)

    def to_fraction(self) -> Fraction:
        """The exact value in seconds."""
        return Fraction(self.num, self.den)

    @property
    def secs_float(self) -> float:
        """The value in seconds as a float."""
        return self.num / self.den

    def to_secs(self) -> int:
        """Whole seconds (truncated, as the official ``to_secs``)."""
        return int(self.to_fraction())

    def to_msecs(self) -> int:
        """Whole milliseconds (truncated, as the official ``to_msecs``)."""
        return int(self.to_fraction() * 1000)

    def to_usecs(self) -> int:
        """Microseconds, rounded to the nearest (as the official ``to_usecs``)."""
        return round(self.to_fraction() * 1_000_000)

    def to_dict(self) -> dict[str, int]:
        """The footer's ``{"num": ..., "den": ...}`` object."""
        return _ratio_dict(self.num, self.den)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Duration:
        """Inverse of :meth:`to_dict`."""
        return cls(*_parse_ratio(obj, "Duration"))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Duration):
            return self.num * other.den == other.num * self.den
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.to_fraction())

    def __lt__(self, other: Duration) -> bool:
        return self.to_fraction() < other.to_fraction()

    def __repr__(self) -> str:
        return f"Duration({self.num}, {self.den})"

    def __str__(self) -> str:
        return f"{self.secs_float}s"


@dataclass(frozen=True, eq=False)
class Time:
    """A point in time: exact seconds since the Unix epoch (UTC) and a UTC offset.

    Unlike the official API, a start time can be set.

    Parameters
    ----------
    secs_since_epoch : Duration, int, Fraction or float, default 0
        Seconds since 1970-01-01 00:00:00 UTC, exact.
    utc_offset : int, default 0
        Offset of local time from UTC, in seconds, within +/- 14 h.

    Examples
    --------
    >>> Time(Duration(1700000000123, 1000), utc_offset=-28800).to_datetime()
    datetime.datetime(2023, 11, 14, 14, 13, 20, 123000)
    """

    secs_since_epoch: Duration = field(default_factory=lambda: Duration(0, 1))
    utc_offset: int = 0

    def __post_init__(self) -> None:
        secs = self.secs_since_epoch
        if not isinstance(secs, Duration):
            secs = Duration(*_parse_ratio(secs, "secs_since_epoch"))
        object.__setattr__(self, "secs_since_epoch", secs)
        off = self.utc_offset
        if isinstance(off, (bool, np.bool_)) or not isinstance(off, numbers.Integral):
            msg = f"utc_offset must be an integer number of seconds, got {off!r}"
            raise TypeError(msg)
        if abs(int(off)) > MAX_UTC_OFFSET_SECS:
            msg = f"utc_offset must be within [-{MAX_UTC_OFFSET_SECS}, {MAX_UTC_OFFSET_SECS}] seconds, got {off}"
            raise ValueError(msg)
        object.__setattr__(self, "utc_offset", int(off))

    @classmethod
    def from_datetime(cls, when: _dt.datetime) -> Time:
        """Make a time from a :class:`datetime.datetime`.

        An aware datetime keeps its UTC offset; a naive one is taken as UTC.
        """
        offset = when.utcoffset()
        utc_offset = 0 if offset is None else int(offset.total_seconds())
        aware = when if offset is not None else when.replace(tzinfo=_dt.timezone.utc)
        delta = aware - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        usecs = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        frac = Fraction(usecs, 1_000_000)
        return cls(Duration(frac.numerator, frac.denominator), utc_offset)

    def to_datetime(self) -> _dt.datetime:
        """Local wall time as a naive datetime (epoch seconds plus the UTC offset), as the official API."""
        usecs = round((self.secs_since_epoch.to_fraction() + self.utc_offset) * 1_000_000)
        return _dt.datetime(1970, 1, 1) + _dt.timedelta(microseconds=usecs)

    def to_dict(self) -> dict[str, Any]:
        """The footer's ``{"secsSinceEpoch": ..., "utcOffset": ...}`` object."""
        return {"secsSinceEpoch": self.secs_since_epoch.to_dict(), "utcOffset": self.utc_offset}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Time:
        """Inverse of :meth:`to_dict`."""
        return cls(Duration.from_dict(obj["secsSinceEpoch"]), int(obj["utcOffset"]))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Time):
            return (self.secs_since_epoch, self.utc_offset) == (other.secs_since_epoch, other.utc_offset)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.secs_since_epoch, self.utc_offset))

    def __repr__(self) -> str:
        return f"Time({self.secs_since_epoch!r}, utc_offset={self.utc_offset})"


def _index_list(values: Iterable[Any], name: str, num_samples: int) -> list[int]:
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            msg = f"{name} must hold integer sample indices, got {v!r}"
            raise TypeError(msg)
        v = int(v)
        if not 0 <= v < num_samples:
            msg = f"{name} index {v} is out of range; expected 0 <= index < num_samples={num_samples}"
            raise ValueError(msg)
        out.append(v)
    return out


def _parse_cropped(cropped: Iterable[Any], num_samples: int) -> tuple[tuple[int, int], ...]:
    ranges = []
    for item in cropped:
        if isinstance(item, str):
            first, last = _parse_cropped_text(item)
        else:
            pair = list(item) if not isinstance(item, numbers.Integral) else [item, item]
            if len(pair) != 2:
                msg = f"cropped ranges must be (first, last) pairs, got {item!r}"
                raise ValueError(msg)
            first, last = _index_list(pair, "cropped", num_samples)
        if first > last:
            msg = f"cropped range {item!r} has first > last; expected (first, last) with first <= last"
            raise ValueError(msg)
        _index_list([first, last], "cropped", num_samples)
        ranges.append((first, last))
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for first, last in ranges:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return tuple(merged)


def _parse_cropped_text(text: str) -> tuple[int, int]:
    parts = [p for p in text.replace(" ", "").split("-") if p != ""]
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        nums = []
    if len(nums) == 1:
        return nums[0], nums[0]
    if len(nums) == 2:
        return nums[0], nums[1]
    msg = f"cropped range text {text!r} is not of the form 'first - last' or 'index'"
    raise ValueError(msg)


@dataclass(frozen=True, eq=False)
class Timing:
    """When the samples of a recording were taken, and which of them are invalid.

    The index lists are normalised as the official writer does (cropped ranges
    sorted and merged; blank indices inside cropped ranges removed; dropped
    indices that are cropped or blank removed), and also de-duplicated, which
    the official writer does not do.

    Parameters
    ----------
    num_samples : int, default 0
        Number of samples, including invalid ones.
    period : Duration, default 50 ms
        Time between samples; must be > 0.
    start : Time, default the epoch
        Time of sample 0.
    dropped : sequence of int, default ()
        Indices of frames the acquisition dropped.
    cropped : sequence of (int, int), default ()
        Inclusive ``(first, last)`` index ranges removed by cropping.
    blank : sequence of int, default ()
        Indices of blank frames.

    Examples
    --------
    >>> t = Timing(num_samples=10, period=Duration.from_msecs(50), dropped=[3, 3], cropped=[(5, 6)])
    >>> t.dropped, t.cropped, t.num_valid_samples
    ((3,), ((5, 6),), 7)
    """

    num_samples: int = 0
    period: Duration = field(default_factory=lambda: Duration(50, 1000))
    start: Time = field(default_factory=Time)
    dropped: tuple[int, ...] = ()
    cropped: tuple[tuple[int, int], ...] = ()
    blank: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        n = self.num_samples
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
            msg = f"num_samples must be an integer, got {n!r}"
            raise TypeError(msg)
        if n < 0:
            msg = f"num_samples must be >= 0, got {n}"
            raise ValueError(msg)
        n = int(n)
        period = self.period
        if not isinstance(period, Duration):
            period = Duration(*_parse_ratio(period, "period"))
        if period.to_fraction() <= 0:
            msg = f"period must be > 0 seconds, got {period.num}/{period.den}"
            raise ValueError(msg)
        start = self.start
        if not isinstance(start, Time):
            start = Time(start)
        cropped = _parse_cropped(self.cropped, n)
        in_cropped = {i for a, b in cropped for i in range(a, b + 1)}
        blank = sorted(set(_index_list(self.blank, "blank", n)) - in_cropped)
        dropped = sorted(set(_index_list(self.dropped, "dropped", n)) - in_cropped - set(blank))
        object.__setattr__(self, "num_samples", n)
        object.__setattr__(self, "period", period)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "cropped", cropped)
        object.__setattr__(self, "blank", tuple(blank))
        object.__setattr__(self, "dropped", tuple(dropped))

    # -- derived values ---------------------------------------------------------------
    def get_valid_samples_mask(self) -> np.ndarray:
        """Boolean array of length ``num_samples``: True where a sample is valid."""
        mask = np.ones(self.num_samples, dtype=bool)
        mask[list(self.dropped)] = False
        mask[list(self.blank)] = False
        for first, last in self.cropped:
            mask[first : last + 1] = False
        return mask

    def get_valid_samples(self) -> np.ndarray:
        """Indices of the valid samples, ascending."""
        return np.flatnonzero(self.get_valid_samples_mask())

    @property
    def num_valid_samples(self) -> int:
        """Number of valid samples (frames a movie stores)."""
        cropped = sum(last - first + 1 for first, last in self.cropped)
        return self.num_samples - len(self.dropped) - len(self.blank) - cropped

    @property
    def end(self) -> Time:
        """Exact end of the recording: ``start + period * num_samples``."""
        secs = self.start.secs_since_epoch.to_fraction() + self.period.to_fraction() * self.num_samples
        return Time(Duration(secs.numerator, secs.denominator), self.start.utc_offset)

    def get_offsets_since_start(self) -> list[Duration]:
        """Offset of each sample from the start, exact."""
        p = self.period
        return [Duration(p.num * i, p.den) for i in range(self.num_samples)]

    def with_num_samples(self, num_samples: int) -> Timing:
        """A copy with another ``num_samples`` (index lists must still fit)."""
        return Timing(num_samples, self.period, self.start, self.dropped, self.cropped, self.blank)

    # -- footer -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The footer's ``timingInfo`` object, as the official writer formats it."""
        return {
            "blank": list(self.blank),
            "cropped": [str(a) if a == b else f"{a} - {b}" for a, b in self.cropped],
            "dropped": list(self.dropped),
            "numTimes": self.num_samples,
            "period": self.period.to_dict(),
            "start": self.start.to_dict(),
        }

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Timing:
        """Inverse of :meth:`to_dict`; missing index lists are empty, as the official reader takes them."""
        return cls(
            num_samples=int(obj["numTimes"]),
            period=Duration.from_dict(obj["period"]),
            start=Time.from_dict(obj["start"]),
            dropped=tuple(obj.get("dropped") or ()),
            cropped=tuple(obj.get("cropped") or ()),
            blank=tuple(obj.get("blank") or ()),
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Timing):
            return self._key() == other._key()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[Any, ...]:
        return (self.num_samples, self.period, self.start, self.dropped, self.cropped, self.blank)

    def __repr__(self) -> str:
        parts = [f"num_samples={self.num_samples}", f"period={self.period!r}", f"start={self.start!r}"]
        for name in ("dropped", "cropped", "blank"):
            if getattr(self, name):
                parts.append(f"{name}={getattr(self, name)!r}")
        return f"Timing({', '.join(parts)})"


def _fraction_pair(value: Any, name: str) -> tuple[Fraction, Fraction]:
    if isinstance(value, Sequence) and not isinstance(value, str) and not isinstance(value, Mapping):
        if len(value) != 2:
            msg = f"{name} must be a number or a (y, x) pair, got {value!r}"
            raise ValueError(msg)
        y, x = value
    else:
        y = x = value
    return Fraction(*_parse_ratio(y, name)), Fraction(*_parse_ratio(x, name))


@dataclass(frozen=True, eq=False)
class Spacing:
    """Where the pixels of a frame are: their count, size and the top-left corner.

    Parameters
    ----------
    num_pixels : (int, int), default (0, 0)
        ``(rows, cols)``, as ``isx.Spacing``.
    pixel_size : number or (number, number), default 3 microns
        Pixel ``(height, width)`` in microns, in the same order as ``num_pixels``;
        one number means square pixels. Must be > 0.
    top_left : number or (number, number), default 0
        Position ``(y, x)`` of the top-left corner in microns.

    Examples
    --------
    >>> Spacing(num_pixels=(400, 640), pixel_size=Fraction(12, 5)).pixel_size
    (Fraction(12, 5), Fraction(12, 5))
    """

    num_pixels: tuple[int, int] = (0, 0)
    pixel_size: tuple[Fraction, Fraction] = (Fraction(3), Fraction(3))
    top_left: tuple[Fraction, Fraction] = (Fraction(0), Fraction(0))

    def __post_init__(self) -> None:
        try:
            rows, cols = self.num_pixels
        except (TypeError, ValueError):
            msg = f"num_pixels must be a (rows, cols) pair, got {self.num_pixels!r}"
            raise ValueError(msg) from None
        for v in (rows, cols):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or v < 0:
                msg = f"num_pixels must be a pair of integers >= 0, got {self.num_pixels!r}"
                raise ValueError(msg)
        pixel_size = _fraction_pair(self.pixel_size, "pixel_size")
        if min(pixel_size) <= 0:
            msg = f"pixel_size must be > 0 microns, got {tuple(str(p) for p in pixel_size)}"
            raise ValueError(msg)
        object.__setattr__(self, "num_pixels", (int(rows), int(cols)))
        object.__setattr__(self, "pixel_size", pixel_size)
        object.__setattr__(self, "top_left", _fraction_pair(self.top_left, "top_left"))

    def to_dict(self) -> dict[str, Any]:
        """The footer's ``spacingInfo`` object."""
        (py, px), (ty, tx) = self.pixel_size, self.top_left
        return {
            "numPixels": {"x": self.num_pixels[1], "y": self.num_pixels[0]},
            "pixelSize": {"x": _ratio_dict(px.numerator, px.denominator), "y": _ratio_dict(py.numerator, py.denominator)},
            "topLeft": {"x": _ratio_dict(tx.numerator, tx.denominator), "y": _ratio_dict(ty.numerator, ty.denominator)},
        }

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Spacing:
        """Inverse of :meth:`to_dict`."""
        num, size, top = obj["numPixels"], obj["pixelSize"], obj["topLeft"]
        return cls(
            num_pixels=(int(num["y"]), int(num["x"])),
            pixel_size=(Fraction(*_parse_ratio(size["y"], "pixelSize.y")), Fraction(*_parse_ratio(size["x"], "pixelSize.x"))),
            top_left=(Fraction(*_parse_ratio(top["y"], "topLeft.y")), Fraction(*_parse_ratio(top["x"], "topLeft.x"))),
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Spacing):
            return (self.num_pixels, self.pixel_size, self.top_left) == (other.num_pixels, other.pixel_size, other.top_left)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.num_pixels, self.pixel_size, self.top_left))

    def __repr__(self) -> str:
        return f"Spacing(num_pixels={self.num_pixels}, pixel_size={self.pixel_size!r}, top_left={self.top_left!r})"
