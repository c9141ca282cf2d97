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


# -- readable str() as the official package prints it; exact reprs ------------------------------------

import math  # noqa: E402
import random  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

OFFICIAL_TIMES = [((1700000000123, 1000), -28800), ((0, 1), 0), ((1523469679261, 1000), 0), ((-5, 1), 3600), ((1, 3), 0)]


@pytest.mark.parametrize(("num", "den"), [(50, 1000), (1, 3), (0, 1), (1, 30), (-7, 2), (12569209, 134217728)])
def test_duration_str_is_the_official_text(isx, num, den):
    assert str(Duration(num, den)) == str(isx.Duration._from_num_den(num, den))


@pytest.mark.parametrize(("secs", "offset"), OFFICIAL_TIMES)
def test_time_str_is_the_official_text(isx, secs, offset):
    ours = Time._from_secs_since_epoch(Duration(*secs), offset)
    theirs = isx.Time._from_secs_since_epoch(isx.Duration._from_num_den(*secs), offset)
    assert str(ours) == str(theirs)
    assert ours.to_datetime() == theirs.to_datetime()
    assert str(Time()) == str(isx.Time())


def test_time_str_beyond_datetime_range_still_prints():
    text = str(Time(Duration(10**15, 1)))
    assert "1000000000000000" in text and "since 1970" in text


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"num_samples": 18, "dropped": [2, 4], "cropped": [[5, 6], [9, 11]], "blank": [13]},
        {"num_samples": 7, "period": (1, 30), "start": ((1700000000123, 1000), -28800), "cropped": [[3, 3]]},
    ],
)
def test_timing_str_is_the_official_text(isx, kwargs):
    period = kwargs.get("period", (50, 1000))
    start, offset = kwargs.get("start", ((0, 1), 0))
    lists = {k: kwargs[k] for k in ("dropped", "cropped", "blank") if k in kwargs}
    n = kwargs.get("num_samples", 0)
    ours = Timing(num_samples=n, period=Duration(*period), start=Time(Duration(*start), offset), **lists)
    theirs = isx.Timing(num_samples=n, period=isx.Duration._from_num_den(*period),
                        start=isx.Time._from_secs_since_epoch(isx.Duration._from_num_den(*start), offset), **lists)
    assert str(ours) == str(theirs)


def test_spacing_str_starts_with_the_official_text_and_gives_microns(isx):
    ours = str(Spacing(num_pixels=(1080, 1440), pixel_size=(Fraction(3, 2), 2), top_left=(0, Fraction(-1, 4))))
    official = str(isx.Spacing(num_pixels=(1080, 1440)))
    assert official.endswith(")")
    assert ours.startswith(official[:-1] + ", ")
    assert "pixel_size=(1.5um, 2.0um)" in ours and "top_left=(0.0um, -0.25um)" in ours


def test_reprs_are_exact_where_str_is_rounded():
    third = Duration(1, 30)
    assert repr(third) == "Duration(1, 30)" and str(third) == f"{1 / 30}s"
    ns = {"Duration": Duration, "Time": Time, "Timing": Timing}
    t = Timing(num_samples=4, period=third, start=Time(Duration(1700000000123, 1000), -28800), cropped=[(1, 2)])
    back = eval(repr(t), ns)
    assert back == t and (back.period.num, back.period.den) == (1, 30)


# -- the official private names that client code calls ------------------------------------------------


@pytest.mark.parametrize(("num", "den"), [(1, 10), (100, 1500), (9968014, 299000000), (1000, 10020)])
def test_from_num_den_keeps_the_rational_as_the_official(isx, num, den):
    ours, theirs = Duration._from_num_den(num, den), isx.Duration._from_num_den(num, den)
    assert (ours._impl.num, ours._impl.den) == (theirs._impl.num, theirs._impl.den) == (num, den)


@pytest.mark.parametrize(("secs", "max_den"), [(0.09364790469408035, 1_000_000_000), (0.09364790469408035, 100),
                                               (1 / 30, 1_000_000_000), (1 / 29.97, 1000), (2.5, 1), (0.0, 10)])
def test_from_secs_float_is_the_official_rational(isx, secs, max_den):
    ours = Duration._from_secs_float(secs, max_denominator=max_den)
    theirs = isx.Duration._from_secs_float(secs, max_denominator=max_den)
    assert (ours.num, ours.den) == (theirs._impl.num, theirs._impl.den)


@pytest.mark.parametrize(("flt", "kwargs", "match"), [
    (7e-10, {}, "flt"), (1e-30, {}, "flt"), (float("nan"), {}, "flt"), (float("inf"), {}, "flt"),
    (0.3, {"max_denominator": 0}, "max_denominator"), (0.3, {"max_denominator": 2.5}, "max_denominator"),
])
def test_from_secs_float_refuses_what_the_official_stores_silently(isx, flt, kwargs, match):
    if not kwargs and math.isfinite(flt):
        theirs = isx.Duration._from_secs_float(flt)._impl  # the official value is far from flt
        assert abs(theirs.num / theirs.den - flt) > flt / 1e9
    with pytest.raises((ValueError, TypeError), match=match):
        Duration._from_secs_float(flt, **kwargs)


def test_time_from_and_to_secs_since_epoch_as_the_official(isx):
    secs = Duration.from_msecs(1523469679261)
    t = Time._from_secs_since_epoch(secs)
    assert t._to_secs_since_epoch() == secs and t.utc_offset == 0
    assert t.to_datetime() == dt.datetime(2018, 4, 11, 18, 1, 19, 261000)
    theirs = isx.Time._from_secs_since_epoch(isx.Duration.from_msecs(1523469679261), 25200)
    assert Time._from_secs_since_epoch(secs, 25200).to_datetime() == theirs.to_datetime()
    assert (t._impl.secs_since_epoch.num, t._impl.secs_since_epoch.den) == (1523469679261, 1000)


def test_duration_with_no_argument_is_zero_as_the_official(isx):
    theirs = isx.Duration()._impl
    assert (Duration().num, Duration().den) == (theirs.num, theirs.den) == (0, 1)
    # the official test of get_offsets_since_start compares offset 0 with Duration()
    assert Timing(num_samples=3, period=Duration.from_msecs(26)).get_offsets_since_start()[0] == Duration()


@pytest.mark.parametrize(("size", "top_left"), [((3, 3), (0, 0)), ((2, 3), (-4, 7)), ((1, 2), (Fraction(5, 2), 5)),
                                                 ((6, 6), (735, 735)), ((Fraction(22, 10), 2), (Fraction(7, 2), Fraction(3, 2)))])
def test_pixel_coordinates_match_the_official(isx, size, top_left):
    ours = Spacing(num_pixels=(4, 5), pixel_size=size, top_left=top_left)
    theirs = isx.Spacing(num_pixels=(4, 5))
    ratio = isx._internal.IsxRatio
    (py, px), (ty, tx) = ours.pixel_size, ours.top_left
    theirs._impl.pixel_height, theirs._impl.pixel_width = ratio(py.numerator, py.denominator), ratio(px.numerator, px.denominator)
    theirs._impl.top, theirs._impl.left = ratio(ty.numerator, ty.denominator), ratio(tx.numerator, tx.denominator)
    np.testing.assert_array_equal(ours._pixel_coordinates, theirs._pixel_coordinates)
    assert ours._pixel_coordinates.dtype == theirs._pixel_coordinates.dtype


def test_official_truncations_stay_exact_here(isx):
    assert (isx.Duration.from_msecs(1000 / 30)._impl.num, isx.Duration.from_msecs(1000 / 30)._impl.den) == (33, 1000)
    assert Duration.from_msecs(1000 / 30).to_fraction() == Fraction(1, 30)
    assert isx.Duration.from_secs(2.5)._impl.num == 2
    assert Duration.from_secs(2.5).to_fraction() == Fraction(5, 2)


# -- footer rationals fit 64-bit integers; floats are never silently changed ---------------------------


def test_rationals_are_kept_as_given_and_reduced_only_to_fit():
    assert (Duration(50, 1000).num, Duration(50, 1000).den) == (50, 1000)
    big = Duration(2**64, 2**65 * 10)
    assert (big.num, big.den) == (1, 20)
    assert Duration.from_usecs(Fraction(2**70, 2**70)).to_fraction() == Fraction(1, 10**6)
    assert Duration(-(2**63) + 1, 1).num == -(2**63) + 1


def test_reduced_rational_reads_back_in_the_official_reader(isx, tmp_path):
    from isx_dask import write_movie

    path = tmp_path / "reduced.isxd"
    timing = Timing(num_samples=2, period=Duration(2**64, 2**65 * 10), start=Time(Duration(3 * 2**70, 2**70)))
    write_movie(np.zeros((2, 3, 4), np.uint16), path, timing=timing, spacing=Spacing(num_pixels=(3, 4)))
    movie = isx.Movie.read(str(path))  # keep it alive: the official timing points into it
    read = movie.timing
    assert (read.period._impl.num, read.period._impl.den) == (1, 20)
    assert (read.start._impl.secs_since_epoch.num, read.start._impl.secs_since_epoch.den) == (3, 1)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Duration(1, 10**20), ValueError, r"Duration = 1/100000000000000000000 .*denominator"),
        (lambda: Duration(10**19, 3), ValueError, "Duration .*numerator"),
        (lambda: Duration.from_msecs(Fraction(1, 2**62)), ValueError, "msecs"),
        (lambda: Duration.from_usecs(10**20), ValueError, "usecs"),
        (lambda: Duration.from_secs(Fraction(1, 10**30)), ValueError, "secs"),
        (lambda: Spacing(num_pixels=(2, 2), pixel_size=1e300), ValueError, "pixel_size = 1e\\+300"),
        (lambda: Spacing(num_pixels=(2, 2), pixel_size=(1, Fraction(1, 10**20))), ValueError, "pixel_size"),
        (lambda: Spacing(num_pixels=(2, 2), top_left=(1e-30, 0)), ValueError, "top_left"),
        (lambda: Spacing(num_pixels=(2, 2), pixel_size=float("nan")), ValueError, "pixel_size must be a finite"),
        (lambda: Spacing(num_pixels=(2, 2), pixel_size=float("inf")), ValueError, "pixel_size must be a finite"),
        (lambda: Spacing(num_pixels=(2**64, 2)), ValueError, "num_pixels"),
        (lambda: Timing(num_samples=3, period=1e-30), ValueError, "period = 1e-30"),
        (lambda: Timing(num_samples=3, period=float("nan")), ValueError, "period must be a finite"),
        (lambda: Timing(num_samples=3, period=np.float32("inf")), ValueError, "period must be a finite"),
        (lambda: Timing(num_samples=2**64), ValueError, "num_samples"),
        (lambda: Time(float("nan")), ValueError, "secs_since_epoch must be a finite"),
        (lambda: Time(1e300), ValueError, "secs_since_epoch"),
        (lambda: Timing.from_dict({**Timing(3).to_dict(), "numTimes": "5"}), TypeError, "numTimes"),
        (lambda: Timing.from_dict({**Timing(3).to_dict(), "numTimes": 5.9}), TypeError, "numTimes"),
        (lambda: Timing.from_dict({**Timing(3).to_dict(), "numTimes": True}), TypeError, "numTimes"),
        (lambda: Timing.from_dict({**Timing(3).to_dict(), "period": {"num": 1, "den": 10**20}}), ValueError, "period"),
        (lambda: Timing.from_dict({**Timing(3).to_dict(), "dropped": "12"}), TypeError, "dropped"),
        (lambda: Time.from_dict({"secsSinceEpoch": {"num": 0, "den": 1}, "utcOffset": "5"}), TypeError, "utc_offset"),
        (lambda: Spacing.from_dict({**Spacing(num_pixels=(2, 3)).to_dict(), "numPixels": {"x": "3", "y": 2}}), TypeError,
         "numPixels.x"),
    ],
)
def test_values_that_do_not_fit_the_footer_are_refused_naming_the_argument(make, error, match):
    with pytest.raises(error, match=match) as info:
        make()
    assert "integer ratio" not in str(info.value)


def test_floats_become_the_simplest_rational_within_their_precision():
    assert Duration.from_secs(0.05).to_fraction() == Fraction(1, 20)
    assert Duration.from_secs(1 / 29.97).to_fraction() == Fraction(100, 2997)
    assert Duration.from_secs(np.float32(0.1)).to_fraction() == Fraction(1, 10)
    assert Duration.from_secs(1e-12).to_fraction() == Fraction(1, 10**12)
    assert Spacing(num_pixels=(1, 1), pixel_size=2.4).pixel_size == (Fraction(12, 5), Fraction(12, 5))
    rng = random.Random(1234)
    for _ in range(2000):
        x = rng.uniform(-1, 1) * 10.0 ** rng.randint(-12, 12)
        frac = Duration.from_secs(x).to_fraction()
        assert abs(frac - Fraction(x)) <= abs(Fraction(x)) * Fraction(2) ** -52, x


def test_end_time_is_exact_beyond_64_bits_and_refused_only_in_a_footer():
    timing = Timing(num_samples=3, period=Duration(12569209, 134217728), start=Time(Duration.from_msecs(1700000000123)))
    exact = Fraction(1700000000123, 1000) + 3 * Fraction(12569209, 134217728)
    assert timing.end.secs_since_epoch.to_fraction() == exact == timing.end_secs_since_epoch
    with pytest.raises(ValueError, match="Duration .*64-bit"):
        timing.end.to_dict()


# -- ranges stay ranges -------------------------------------------------------------------------------


def test_cropped_ranges_are_not_expanded():
    tracemalloc.start()
    try:
        t = Timing(num_samples=2_000_000, cropped=[(0, 1_999_990)], dropped=[5, 1_999_995], blank=[7, 1_999_999])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000, peak  # a set of 2e6 cropped indices takes > 100 MB
    assert (t.cropped, t.dropped, t.blank) == (((0, 1_999_990),), (1_999_995,), (1_999_999,))
    assert t.num_valid_samples == 2_000_000 - 1_999_991 - 2
    crafted = {**Timing(3).to_dict(), "numTimes": 10**9, "cropped": ["0 - 999999998"], "dropped": [999999999]}
    big = Timing.from_dict(crafted)
    assert big.cropped == ((0, 999_999_998),) and big.dropped == (999_999_999,) and big.num_valid_samples == 0


def test_index_lists_at_range_boundaries_as_brute_force():
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 40)
        cropped = []
        for _ in range(rng.randint(0, 3)):
            a = rng.randrange(n)
            cropped.append((a, rng.randint(a, n - 1)))
        blank = [rng.randrange(n) for _ in range(rng.randint(0, 5))]
        dropped = [rng.randrange(n) for _ in range(rng.randint(0, 5))]
        t = Timing(num_samples=n, cropped=cropped, blank=blank, dropped=dropped)
        in_cropped = {i for a, b in cropped for i in range(a, b + 1)}
        assert t.blank == tuple(sorted(set(blank) - in_cropped))
        assert t.dropped == tuple(sorted(set(dropped) - in_cropped - set(blank)))
        assert {i for a, b in t.cropped for i in range(a, b + 1)} == in_cropped
