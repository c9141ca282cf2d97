"""Metadata types: exact values, normalisation of timing lists, validation messages, footer round trips."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from isx_dask import Duration, Spacing, Time, Timing


def test_duration_constructors_keep_the_rational_as_given():
    assert (Duration.from_msecs(50).num, Duration.from_msecs(50).den) == (50, 1000)
    assert (Duration.from_usecs(33333).num, Duration.from_usecs(33333).den) == (33333, 1000000)
    assert (Duration.from_secs(1).num, Duration.from_secs(1).den) == (1, 1)
    third = Duration.from_secs(Fraction(1, 30))
    assert third.to_fraction() == Fraction(1, 30)  # no truncation
    assert Duration.from_secs(0.05).to_fraction() == Fraction(1, 20)
    assert Duration(1, 20) == Duration.from_msecs(50)
    assert hash(Duration(1, 20)) == hash(Duration.from_msecs(50))


def test_duration_conversions_match_official_truncation_rules():
    d = Duration(1, 30)
    assert d.to_msecs() == 33
    assert d.to_usecs() == 33333
    assert d.to_secs() == 0
    assert Duration.from_msecs(1500).to_secs() == 1


@pytest.mark.parametrize("bad", [(1, 0), (0.5, 2), (1, 2.0)])
def test_duration_rejects_zero_or_non_integer_parts(bad):
    with pytest.raises((ValueError, TypeError), match="Duration"):
        Duration(*bad)


def test_time_is_settable_and_converts_to_datetime():
    t = Time(Duration(1700000000123, 1000), utc_offset=-28800)
    assert t.to_datetime() == dt.datetime(2023, 11, 14, 14, 13, 20, 123000)
    aware = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    t2 = Time.from_datetime(aware)
    assert t2.utc_offset == 7200
    assert t2.secs_since_epoch.to_fraction() == int(aware.timestamp())
    with pytest.raises(ValueError, match="utc_offset"):
        Time(0, utc_offset=60000)


def test_timing_normalises_like_the_official_writer_and_deduplicates():
    t = Timing(num_samples=20, cropped=[[4, 5], [6, 8], [3, 3], [15, 17]], blank=[4, 12, 12], dropped=[2, 2, 12, 7])
    assert t.cropped == ((3, 8), (15, 17))
    assert t.blank == (12,)
    assert t.dropped == (2,)
    assert t.to_dict()["cropped"] == ["3 - 8", "15 - 17"]
    single = Timing(num_samples=5, cropped=[(1, 1)])
    assert single.to_dict()["cropped"] == ["1"]
    mask = t.get_valid_samples_mask()
    expected = [i not in {2, 12} and not (3 <= i <= 8) and not (15 <= i <= 17) for i in range(20)]
    assert mask.tolist() == expected
    assert t.num_valid_samples == sum(expected)


def test_timing_has_no_shared_mutable_defaults():
    a, b = Timing(num_samples=3), Timing(num_samples=3)
    assert a.dropped == () and a == b
    with pytest.raises(AttributeError):
        a.dropped = (1,)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_samples": 5, "period": Duration(0, 1)}, "period"),
        ({"num_samples": 5, "period": Duration(-1, 10)}, "period"),
        ({"num_samples": 5, "dropped": [5]}, "dropped"),
        ({"num_samples": 5, "blank": [-1]}, "blank"),
        ({"num_samples": 5, "cropped": [(3, 9)]}, "cropped"),
        ({"num_samples": 5, "cropped": [(3, 2)]}, "cropped"),
        ({"num_samples": -1}, "num_samples"),
    ],
)
def test_timing_rejects_bad_values_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Timing(**kwargs)


def test_timing_footer_round_trip_including_cropped_text():
    t = Timing(7, Duration(1, 30), Time(Duration(5, 2), 3600), dropped=[1], cropped=[(3, 4)], blank=[6])
    assert Timing.from_dict(t.to_dict()) == t
    assert Timing.from_dict({**t.to_dict(), "cropped": ["3-4"]}) == t
    assert t.end.secs_since_epoch.to_fraction() == Fraction(5, 2) + Fraction(7, 30)


def test_spacing_defaults_and_validation():
    s = Spacing(num_pixels=(5, 7))
    d = s.to_dict()
    assert d["numPixels"] == {"x": 7, "y": 5}
    assert d["pixelSize"]["x"] == {"num": 3, "den": 1}
    s2 = Spacing(num_pixels=(4, 6), pixel_size=(Fraction(7, 2), Fraction(11, 4)), top_left=(-3, 1))
    assert Spacing.from_dict(s2.to_dict()) == s2
    assert s2.to_dict()["pixelSize"]["y"] == {"num": 7, "den": 2}
    with pytest.raises(ValueError, match="pixel_size"):
        Spacing(num_pixels=(4, 6), pixel_size=0)
    with pytest.raises(ValueError, match="num_pixels"):
        Spacing(num_pixels=(4, 6, 1))  # type: ignore[arg-type]


def test_reprs_read_like_constructor_calls():
    t = Timing(num_samples=3, dropped=[1])
    assert eval(repr(t), {"Timing": Timing, "Duration": Duration, "Time": Time}) == t
    s = Spacing(num_pixels=(2, 3))
    assert eval(repr(s), {"Spacing": Spacing, "Fraction": Fraction}) == s
