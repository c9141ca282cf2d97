"""Metadata types of ``.isxd`` files: durations, times, sample timing and pixel spacing.

These mirror the official ``isx`` types (``isx.Duration``, ``isx.Time``,
``isx.Timing``, ``isx.Spacing``) so that code switches by changing an import,
but they are frozen, validated on construction, exact (rationals, never floats)
and round-trip through the JSON footer with :meth:`to_dict` / :meth:`from_dict`.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from bisect import bisect_right
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
#: Largest numerator or denominator of a footer rational: both are signed 64-bit integers.
INT64_MAX = 2**63 - 1
#: Largest count or index in a footer (``numTimes``, ``numPixels``, sample indices are unsigned 64-bit).
UINT64_MAX = 2**64 - 1
_FLOAT_MAX_DENOMINATOR = 10**9


def _short_int(value: int) -> str:
    """An integer for a message: in full up to 25 digits, else its first digits and length."""
    text = str(value)
    digits = text.lstrip("-")
    if len(digits) <= 25:
        return text
    return f"{text[: len(text) - len(digits)]}{digits[:6]}...({len(digits)} digits)"


def _fit_int64(num: int, den: int, name: str) -> tuple[int, int]:
    """Return ``(num, den)`` unchanged if both fit a footer's int64, else reduced, else raise.

    ``den`` must already be > 0. The rational is kept as given when it fits (the official
    writer stores ``50/1000`` unreduced); lowest terms are used only when they are needed to fit.
    """
    if abs(num) <= INT64_MAX and den <= INT64_MAX:
        return num, den
    g = math.gcd(num, den)
    small_num, small_den = num // g, den // g
    if abs(small_num) <= INT64_MAX and small_den <= INT64_MAX:
        return small_num, small_den
    part = "numerator" if abs(small_num) > INT64_MAX else "denominator"
    msg = (
        f"{name} = {_short_int(num)}/{_short_int(den)} does not fit the footer: its {part} is larger than "
        f"a 64-bit signed integer even in lowest terms; expected |numerator| and denominator <= 2**63 - 1 "
        f"({INT64_MAX})"
    )
    raise ValueError(msg)


def _float_ratio(value: Any, name: str) -> tuple[int, int]:
    """The rational a footer stores for a float, or an error naming ``name``; never a different number.

    In order of preference:

    1. the simplest rational (smallest denominator, at most 10**9) within the float's own
       precision of it (relative ``eps`` of its type: 2**-52 for a Python float,
       2**-23 for ``np.float32``): ``0.05`` is ``1/20``, ``1 / 29.97`` is ``100/2997``,
       ``np.float32(0.1)`` is ``1/10``;
    2. else the simplest rational that is the same float (``1e-12`` is ``1/10**12``);
    3. else ``ValueError``: NaN, infinities, and floats that no rational with 64-bit parts
       equals (``1e-30``, ``1e300``) are refused, never rounded to something else.
    """
    flt = float(value)
    if not math.isfinite(flt):
        msg = f"{name} must be a finite number, got {flt!r}"
        raise ValueError(msg)
    if flt == 0:
        return 0, 1
    same_type: Any = type(value) if isinstance(value, np.floating) else float
    magnitude = abs(Fraction(flt))
    tolerance = magnitude * Fraction(float(np.finfo(same_type).eps))
    near = _simplest_between(magnitude - tolerance, magnitude + tolerance)
    if near.denominator <= _FLOAT_MAX_DENOMINATOR and near.numerator <= INT64_MAX:
        return (near.numerator if flt > 0 else -near.numerator), near.denominator
    for frac in (_simplest_same_float(value, same_type), Fraction(flt)):
        if abs(frac.numerator) <= INT64_MAX and frac.denominator <= INT64_MAX and _same_float(frac, value, same_type):
            return frac.numerator, frac.denominator
    msg = (
        f"{name} = {flt!r} cannot be stored in the footer: no rational with a numerator and denominator "
        f"of at most 2**63 - 1 equals it; expected a value between about {1 / INT64_MAX:.3g} and "
        f"{float(INT64_MAX):.3g} in magnitude (or 0), or an exact Fraction / Duration(num, den) that fits"
    )
    raise ValueError(msg)


def _simplest_same_float(value: Any, same_type: Any) -> Fraction:
    """The rational with the smallest denominator strictly between ``value``'s neighbours' midpoints."""
    x = same_type(value)
    if x == 0:
        return Fraction(0)
    magnitude = abs(x)
    if same_type is float:
        below, above = math.nextafter(magnitude, 0.0), math.nextafter(magnitude, math.inf)
    else:
        below, above = np.nextafter(magnitude, same_type(0)), np.nextafter(magnitude, same_type(np.inf))
    centre = Fraction(float(magnitude))
    low = (Fraction(float(below)) + centre) / 2
    high = (Fraction(float(above)) + centre) / 2 if math.isfinite(float(above)) else centre + (centre - low)
    frac = _simplest_between(low, high)
    return frac if x > 0 else -frac


def _simplest_between(low: Fraction, high: Fraction | None) -> Fraction:
    """The rational with the smallest denominator in the open interval ``(low, high)``.

    ``0 <= low < high``; ``high=None`` means no upper bound. Continued fractions: if an
    integer lies inside, the smallest such is the answer; otherwise both bounds share
    the integer part ``n`` and the answer is ``n + 1/y`` for the simplest ``y`` between
    the reciprocals of the fractional parts (the depth is the length of the continued
    fraction, under 100 for any float).
    """
    whole = math.floor(low)
    if high is None or whole + 1 < high:
        return Fraction(whole + 1)
    upper = 1 / (low - whole) if low > whole else None
    return whole + 1 / _simplest_between(1 / (high - whole), upper)


def _same_float(frac: Fraction, value: Any, same_type: Any) -> bool:
    """Whether ``frac`` rounds to ``value`` in ``value``'s own floating-point type."""
    with np.errstate(over="ignore"):
        try:
            return bool(same_type(float(frac)) == value)
        except OverflowError:
            return False


def _ratio_dict(num: int, den: int) -> dict[str, int]:
    return {"num": int(num), "den": int(den)}


def _parse_ratio(value: Any, name: str) -> tuple[int, int]:
    """Return ``(num, den)`` for a rational-like value, exactly where possible, fitted to int64."""
    if isinstance(value, Duration):
        return value.num, value.den
    if isinstance(value, Mapping):
        try:
            num, den = value["num"], value["den"]
        except KeyError:
            msg = f"{name} must have integer 'num' and 'den' keys, got {dict(value)!r}"
            raise ValueError(msg) from None
        return _fit_int64(*_int_pair(num, den, name), name)
    if isinstance(value, tuple) and len(value) == 2:
        return _fit_int64(*_int_pair(value[0], value[1], name), name)
    if isinstance(value, Fraction):
        return _fit_int64(value.numerator, value.denominator, name)
    if isinstance(value, (bool, np.bool_)):
        msg = f"{name} must be a number, got {value!r}"
        raise TypeError(msg)
    if isinstance(value, numbers.Integral):
        return _fit_int64(int(value), 1, name)
    if isinstance(value, numbers.Real):
        return _float_ratio(value, name)
    msg = f"{name} must be a number, a Fraction, a Duration or a (num, den) pair, got {value!r}"
    raise TypeError(msg)


def to_rational(value: RationalLike, name: str) -> Fraction:
    """The exact rational a footer will store for ``value``, or an error naming ``name``.

    Integers, Fractions, ``(num, den)`` pairs and Durations are exact; a float becomes the
    simplest rational that is the same float (see the float rule of :class:`Duration`).
    NaN, infinities and values whose lowest terms need more than 64-bit integers raise
    ``ValueError`` naming ``name``.
    """
    return Fraction(*_parse_ratio(value, name))


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


def _require_int(value: Any, name: str, maximum: int = UINT64_MAX) -> int:
    """An integer in ``[0, maximum]`` (not a bool, a float or a string), or an error naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        msg = f"{name} must be an integer, got {value!r}"
        raise TypeError(msg)
    if not 0 <= int(value) <= maximum:
        msg = f"{name} must be >= 0 and <= {maximum}, got {_short_int(int(value))}"
        raise ValueError(msg)
    return int(value)


@dataclass(frozen=True, eq=False)
class Duration:
    """An exact length of time in seconds, stored as the rational ``num / den``.

    The rational is kept as given (``Duration.from_msecs(50)`` is ``50/1000``),
    as the official writer stores it; equality compares values, so
    ``Duration(1, 20) == Duration.from_msecs(50)``. Both parts are 64-bit signed
    integers in the footer: a rational that does not fit is reduced to lowest
    terms when that fits, and refused otherwise.

    Unlike the official ``isx.Duration``, nothing is truncated:
    ``Duration.from_msecs(1000 / 30)`` is exactly 1/30 s (the official package
    stores 33/1000), and ``Duration.from_secs(2.5)`` is 2.5 s (officially 2 s).
    A float becomes the simplest rational that is the same float (a denominator
    of at most 10**9 where one exists); NaN, infinities and floats that no
    64-bit rational equals (``1e-30``, ``1e300``) are refused.

    Parameters
    ----------
    num : int, default 0
        Numerator, in seconds. ``Duration()`` is 0 s, as the official default.
    den : int, default 1
        Denominator; must not be zero.

    Examples
    --------
    >>> Duration.from_msecs(50)
    Duration(50, 1000)
    >>> print(Duration.from_msecs(50))
    0.05s
    >>> Duration.from_secs(Fraction(1, 30)).secs_float
    0.03333333333333333
    """

    num: int = 0
    den: int = 1

    def __post_init__(self) -> None:
        num, den = _fit_int64(*_int_pair(self.num, self.den, "Duration"), "Duration")
        object.__setattr__(self, "num", num)
        object.__setattr__(self, "den", den)

    @classmethod
    def from_secs(cls, secs: RationalLike) -> Duration:
        """Make a duration from seconds (int, Fraction, or float; never truncated).

        A float becomes the simplest rational that is the same float (denominator at
        most 10**9 where possible). Pass a :class:`fractions.Fraction` for exact
        values such as 1/30. The official ``from_secs`` truncates to whole seconds.
        """
        return cls(*_parse_ratio(secs, "secs"))

    @classmethod
    def from_msecs(cls, msecs: RationalLike) -> Duration:
        """Make a duration from milliseconds; integers are stored as ``msecs/1000``.

        Not truncated: ``from_msecs(1000 / 30)`` is 1/30 s, where the official
        package stores 33/1000.
        """
        num, den = _parse_ratio(msecs, "msecs")
        return cls(*_fit_int64(num, den * 1000, "msecs"))

    @classmethod
    def from_usecs(cls, usecs: RationalLike) -> Duration:
        """Make a duration from microseconds; integers are stored as ``usecs/1000000``."""
        num, den = _parse_ratio(usecs, "usecs")
        return cls(*_fit_int64(num, den * 1_000_000, "usecs"))

    # -- the official package's private constructors, which client code calls ---------
    @classmethod
    def _from_num_den(cls, num: int, den: int) -> Duration:
        """``isx.Duration._from_num_den``: the same as ``Duration(num, den)``."""
        return cls(num, den)

    @classmethod
    def _from_secs_float(cls, flt: float, max_denominator: int = 1_000_000_000) -> Duration:
        """``isx.Duration._from_secs_float``: the nearest rational with ``den <= max_denominator``.

        The official semantics (``Fraction(flt).limit_denominator(max_denominator)``,
        e.g. 0.09364790469408035 -> 12569209/134217728, or 3/32 with
        ``max_denominator=100``), except that a result that is off by more than one
        part in ``max_denominator`` (a non-zero value that becomes 0, or 7e-10 s that
        becomes 1e-9 s) is refused, as are NaN and infinities, where the official
        package stores them silently.
        """
        if isinstance(max_denominator, (bool, np.bool_)) or not isinstance(max_denominator, numbers.Integral):
            msg = f"max_denominator must be an integer, got {max_denominator!r}"
            raise TypeError(msg)
        if not 1 <= int(max_denominator) <= INT64_MAX:
            msg = f"max_denominator must be between 1 and 2**63 - 1, got {max_denominator!r}"
            raise ValueError(msg)
        if isinstance(flt, (bool, np.bool_)) or not isinstance(flt, numbers.Real):
            msg = f"flt must be a number of seconds, got {flt!r}"
            raise TypeError(msg)
        value = float(flt)
        if not math.isfinite(value):
            msg = f"flt must be a finite number of seconds, got {value!r}"
            raise ValueError(msg)
        exact = Fraction(value)
        frac = exact.limit_denominator(int(max_denominator))
        if abs(frac - exact) * int(max_denominator) > abs(exact):
            msg = (
                f"flt = {value!r} s becomes {frac} s with max_denominator={max_denominator}, off by more than "
                f"one part in {max_denominator}; expected a larger max_denominator, or use "
                f"Duration.from_secs({value!r}) for the simplest rational that equals it"
            )
            raise ValueError(msg)
        return cls(*_fit_int64(frac.numerator, frac.denominator, "flt"))

    @classmethod
    def _unbounded(cls, num: int, den: int) -> Duration:
        """An exact duration whose parts may exceed 64 bits (for intermediate results only).

        ``den`` must be > 0. Its :meth:`to_dict` refuses it if it still does not fit.
        """
        self = object.__new__(cls)
        object.__setattr__(self, "num", int(num))
        object.__setattr__(self, "den", int(den))
        return self

    @property
    def _impl(self) -> Duration:
        """The official ``_impl`` ratio, read only (``d._impl.num``, ``d._impl.den``)."""
        return self

    # -- conversions -------------------------------------------------------------------
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
        """Whole milliseconds (truncated, as the official ``to_msecs``, but computed exactly)."""
        return int(self.to_fraction() * 1000)

    def to_usecs(self) -> int:
        """Microseconds, rounded to the nearest (as the official ``to_usecs``, but computed exactly)."""
        return round(self.to_fraction() * 1_000_000)

    def to_dict(self) -> dict[str, int]:
        """The footer's ``{"num": ..., "den": ...}`` object (both parts fit a signed 64-bit integer)."""
        return _ratio_dict(*_fit_int64(self.num, self.den, "Duration"))

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
        """Seconds as the official package prints them: ``0.05s``."""
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
    >>> t = Time(Duration(1700000000123, 1000), utc_offset=-28800)
    >>> t.to_datetime()
    datetime.datetime(2023, 11, 14, 14, 13, 20, 123000)
    >>> print(t)
    2023-11-14 14:13:20.123000
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

    # -- the official package's private names, which client code calls -----------------
    @classmethod
    def _from_secs_since_epoch(cls, secs_since_epoch: Duration, utc_offset: int = 0) -> Time:
        """``isx.Time._from_secs_since_epoch``: the same as ``Time(secs_since_epoch, utc_offset)``."""
        return cls(secs_since_epoch, utc_offset)

    def _to_secs_since_epoch(self) -> Duration:
        """``isx.Time._to_secs_since_epoch``: the :attr:`secs_since_epoch` duration."""
        return self.secs_since_epoch

    @property
    def _impl(self) -> Time:
        """The official ``_impl`` record, read only (``t._impl.secs_since_epoch``, ``t._impl.utc_offset``)."""
        return self

    def to_datetime(self) -> _dt.datetime:
        """Local wall time as a naive datetime (epoch seconds plus the UTC offset), as the official API."""
        usecs = round((self.secs_since_epoch.to_fraction() + self.utc_offset) * 1_000_000)
        return _dt.datetime(1970, 1, 1) + _dt.timedelta(microseconds=usecs)

    def to_dict(self) -> dict[str, Any]:
        """The footer's ``{"secsSinceEpoch": ..., "utcOffset": ...}`` object."""
        return {"secsSinceEpoch": self.secs_since_epoch.to_dict(), "utcOffset": self.utc_offset}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Time:
        """Inverse of :meth:`to_dict`; ``utcOffset`` must be an integer (not ``"5"`` or ``5.0``)."""
        return cls(Duration(*_parse_ratio(obj["secsSinceEpoch"], "secsSinceEpoch")), obj["utcOffset"])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Time):
            return (self.secs_since_epoch, self.utc_offset) == (other.secs_since_epoch, other.utc_offset)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.secs_since_epoch, self.utc_offset))

    def __repr__(self) -> str:
        return f"Time({self.secs_since_epoch!r}, utc_offset={self.utc_offset})"

    def __str__(self) -> str:
        """Local wall time as the official package prints it: ``2023-11-14 14:13:20.123000``."""
        try:
            return str(self.to_datetime())
        except OverflowError:  # beyond datetime's years 1..9999
            return f"{self.secs_since_epoch} since 1970-01-01 00:00:00 UTC (utc_offset={self.utc_offset}s)"


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


def _outside_ranges(indices: list[int], ranges: tuple[tuple[int, int], ...]) -> list[int]:
    """The indices that fall in none of the sorted, disjoint inclusive ``ranges``."""
    firsts = [first for first, _ in ranges]
    kept = []
    for i in indices:
        k = bisect_right(firsts, i) - 1
        if k < 0 or i > ranges[k][1]:
            kept.append(i)
    return kept


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
        if not 0 <= n <= UINT64_MAX:
            msg = f"num_samples must be >= 0 and fit the footer's unsigned 64-bit numTimes, got {_short_int(int(n))}"
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
        # Ranges stay ranges: membership by bisection, never a set of every cropped index.
        blank = sorted(set(_outside_ranges(_index_list(self.blank, "blank", n), cropped)))
        dropped = sorted(set(_outside_ranges(_index_list(self.dropped, "dropped", n), cropped)) - set(blank))
        object.__setattr__(self, "num_samples", n)
        object.__setattr__(self, "period", period)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "cropped", cropped)
        object.__setattr__(self, "blank", tuple(blank))
        object.__setattr__(self, "dropped", tuple(dropped))

    # -- derived values ---------------------------------------------------------------
    def get_valid_samples_mask(self) -> np.ndarray[Any, Any]:
        """Boolean array of length ``num_samples``: True where a sample is valid."""
        mask = np.ones(self.num_samples, dtype=bool)
        mask[list(self.dropped)] = False
        mask[list(self.blank)] = False
        for first, last in self.cropped:
            mask[first : last + 1] = False
        return mask

    def get_valid_samples(self) -> np.ndarray[Any, Any]:
        """Indices of the valid samples, ascending."""
        return np.flatnonzero(self.get_valid_samples_mask())

    @property
    def num_valid_samples(self) -> int:
        """Number of valid samples (frames a movie stores)."""
        cropped = sum(last - first + 1 for first, last in self.cropped)
        return self.num_samples - len(self.dropped) - len(self.blank) - cropped

    @property
    def end_secs_since_epoch(self) -> Fraction:
        """Exact end of the recording in seconds since the epoch, ``start + period * num_samples``.

        Unbounded: unlike :attr:`end`, it need not fit a footer rational.
        """
        return self.start.secs_since_epoch.to_fraction() + self.period.to_fraction() * self.num_samples

    @property
    def end(self) -> Time:
        """Exact end of the recording: ``start + period * num_samples``.

        Exact even where its lowest terms need more than 64 bits (a start in ms and a
        period of 12569209/134217728 s): such an end is refused only when it is put in
        a footer (:meth:`Duration.to_dict` raises ``ValueError``), so that a writer can
        still truncate it to whole milliseconds as the official writer does.
        """
        secs = self.end_secs_since_epoch
        return Time(Duration._unbounded(secs.numerator, secs.denominator), self.start.utc_offset)

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
        """Inverse of :meth:`to_dict`; missing index lists are empty, as the official reader takes them.

        Strict about types: ``numTimes`` must be an integer (not ``"5"`` or ``5.9``)
        and the index lists arrays; cropped ranges stay ranges whatever ``numTimes`` is.
        """
        lists = {}
        for key in ("dropped", "cropped", "blank"):
            value = obj.get(key)
            if value is not None and not isinstance(value, (list, tuple)):
                msg = f"timingInfo.{key} must be an array, got {value!r}"
                raise TypeError(msg)
            lists[key] = tuple(value or ())
        return cls(
            num_samples=_require_int(obj["numTimes"], "timingInfo.numTimes"),
            period=Duration(*_parse_ratio(obj["period"], "timingInfo.period")),
            start=Time.from_dict(obj["start"]),
            **lists,
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

    def __str__(self) -> str:
        """As the official package prints it: ``Timing(num_samples=3, period=0.05s, start=..., dropped=[], ...)``."""
        return (
            f"Timing(num_samples={self.num_samples}, period={self.period}, start={self.start}, "
            f"dropped={list(self.dropped)}, cropped={list(self.cropped)}, blank={list(self.blank)})"
        )


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
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral) or not 0 <= v <= UINT64_MAX:
                msg = f"num_pixels must be a pair of integers >= 0 (unsigned 64-bit), got {self.num_pixels!r}"
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

    @property
    def _pixel_coordinates(self) -> np.ndarray[Any, Any]:
        """``isx.Spacing._pixel_coordinates``: ``[left, top, num_cols, num_rows]`` in pixels.

        ``left`` and ``top`` are the top-left corner divided by the pixel width and
        height, rounded half to even as the official package does, but from the exact
        rationals rather than floats.
        """
        (height, width), (top, left) = self.pixel_size, self.top_left
        rows, cols = self.num_pixels
        return np.array([round(left / width), round(top / height), cols, rows]).astype(int)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Spacing:
        """Inverse of :meth:`to_dict`; pixel counts must be integers (not ``"5"`` or ``5.0``)."""
        num, size, top = obj["numPixels"], obj["pixelSize"], obj["topLeft"]
        return cls(
            num_pixels=(_require_int(num["y"], "numPixels.y"), _require_int(num["x"], "numPixels.x")),
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

    def __str__(self) -> str:
        """The official text ``Spacing(num_pixels=(rows, cols)`` followed by the sizes in microns.

        The official package prints only the pixel counts, since its spacing is always
        3 um pixels at the origin; ours can be anything, so it says so:
        ``Spacing(num_pixels=(4, 5), pixel_size=(3.0um, 3.0um), top_left=(0.0um, 0.0um))``.
        """
        size = ", ".join(f"{float(v)}um" for v in self.pixel_size)
        top = ", ".join(f"{float(v)}um" for v in self.top_left)
        return f"Spacing(num_pixels={self.num_pixels}, pixel_size=({size}), top_left=({top}))"
