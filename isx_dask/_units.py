"""Exact factors of the length and time units that image metadata names: one table for every reader.

OME-NGFF (Zarr) spells units as UDUNITS names (``'micrometer'``, ``'second'``);
OME-XML and ImageJ (TIFF) as symbols (``'µm'``, ``'s'``). Each unit is one row
here, with its factor to micrometres or seconds and both spellings.
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["MICRONS_PER", "NGFF_MICRONS_PER", "NGFF_SECONDS_PER", "SECONDS_PER"]

#: (dimension, factor to micrometres or seconds, NGFF names, symbols and other spellings).
_UNITS: tuple[tuple[str, Fraction, tuple[str, ...], tuple[str, ...]], ...] = (
    ("length", Fraction(1, 10**6), ("picometer",), ("pm",)),
    ("length", Fraction(1, 10**4), ("angstrom",), ("Å",)),
    ("length", Fraction(1, 1000), ("nanometer",), ("nm",)),
    # MICRO SIGN and GREEK SMALL LETTER MU
    ("length", Fraction(1), ("micrometer", "micron"), ("µm", "μm", "um", "micron", "microns")),
    ("length", Fraction(1000), ("millimeter",), ("mm",)),
    ("length", Fraction(10**4), ("centimeter",), ("cm",)),
    ("length", Fraction(10**6), ("meter",), ("m",)),
    ("length", Fraction(25400), (), ("in", "inch")),
    ("time", Fraction(1, 10**9), ("nanosecond",), ("ns",)),
    ("time", Fraction(1, 10**6), ("microsecond",), ("µs", "μs", "us")),
    ("time", Fraction(1, 1000), ("millisecond",), ("ms",)),
    ("time", Fraction(1), ("second",), ("s", "sec")),
    ("time", Fraction(60), ("minute",), ("min",)),
    ("time", Fraction(3600), ("hour",), ("h",)),
)


def _table(dimension: str, ngff: bool) -> dict[str, Fraction]:
    return {name: factor for dim, factor, long, short in _UNITS if dim == dimension for name in (long if ngff else short)}


#: Micrometres per NGFF space unit.
NGFF_MICRONS_PER = _table("length", ngff=True)
#: Seconds per NGFF time unit.
NGFF_SECONDS_PER = _table("time", ngff=True)
#: Micrometres per length unit as OME-XML and ImageJ write it.
MICRONS_PER = _table("length", ngff=False)
#: Seconds per time unit as OME-XML writes it.
SECONDS_PER = _table("time", ngff=False)
