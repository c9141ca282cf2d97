"""GPIO (type 3) and IMU (type 7) sets: written files read back with the official isx package
(``isx.GpioSet.read`` and ``isx.export_gpio_set_to_csv``) and compared with values computed here
with numpy and fractions alone."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import pytest
from conftest import directory_state, leftovers, split_file
from dask.delayed import Delayed

from isx_dask.layout import IsxdFormatError
from isx_dask.metadata import Duration, Time, Timing
from isx_dask.readers.gpio import GpioSetFile
from isx_dask.writers.gpio import GpioSet, write_gpio_set, write_imu_set

PACKET = np.dtype([("offset", "<u8"), ("channel", "<u8"), ("value", "<f4")])
IMU_NAMES = ["Acc x", "Acc y", "Acc z", "Ori yaw", "Ori pitch", "Ori roll", "Mag x", "Mag y", "Mag z"]
START = Time(Duration(1700000000123, 1000), 3600)


# -- independent models --------------------------------------------------------------------------
def sample_offset(period: Fraction, i: int) -> int:
    """round(i * period) in microseconds, half to even (Python's round on an exact Fraction)."""
    return round(Fraction(i) * period * 1_000_000)


def official_offsets(offsets: np.ndarray) -> np.ndarray:
    """The official reader returns offsets through doubles: uint64(double(offset) / 1e6 * 1e6)."""
    return (np.asarray(offsets, dtype=np.uint64).astype(np.float64) / 1e6 * 1e6).astype(np.uint64)


def sorted_channel(offsets: Any, values: Any) -> tuple[np.ndarray, np.ndarray]:
    offs = np.asarray(offsets, dtype=np.int64)
    order = np.argsort(offs, kind="stable")
    return offs[order].astype(np.uint64), np.asarray(values, dtype=np.float32)[order]


def seconds(start: Time | None, offset_us: int) -> float:
    """(start + offset) - base as the official exporter computes it: a rational, then num / den in double."""
    t = Fraction(int(offset_us), 1_000_000)
    if start is not None:
        t += Fraction(start.secs_since_epoch.num, start.secs_since_epoch.den)
    return float(t.numerator) / float(t.denominator)


def gpio_csv(names: list[str], channels: list[tuple[np.ndarray, np.ndarray]], start: Time | None = None) -> str:
    """The rows the official export writes: channel after channel, each sorted by time."""
    lines = ["Time (s), Channel Name, Value"]
    for name, (offs, vals) in zip(names, channels):
        for o, v in zip(offs.tolist(), vals.tolist()):
            lines.append(f"{seconds(start, o):.16g}, {name}, {float(np.float32(v)):.7g}")
    return "\n".join(lines) + "\n"


def imu_csv(names: list[str], channels: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """The official IMU export: channels 0-5 side by side on the rows of channel 0, channels 6-8 appended."""
    head = ["IMU Time (s)", *names[:6], "Mag Time (s)", *names[6:]]
    lines = [", ".join(head)]
    mag_offsets = channels[6][0]
    for row, offset in enumerate(channels[0][0].tolist()):
        cells = [f"{seconds(None, offset):.16g}"]
        for k in range(6):
            value = np.float32(channels[k][1][row])
            if k < 3:
                value = np.float32(value / np.float32(16384))
            cells.append(f"{float(value):.16g}")
        if row < len(mag_offsets):
            cells.append(f"{seconds(None, int(mag_offsets[row])):.16g}")
            cells += [f"{float(np.float32(channels[k][1][row])):.16g}" for k in range(6, 9)]
        lines.append(", ".join(cells))
    return "\n".join(lines) + "\n"


def read_official(isx: Any, path: Path) -> tuple[Any, list[str], list[tuple[np.ndarray, np.ndarray]]]:
    g = isx.GpioSet.read(str(path))
    names = [g.get_channel_name(k) for k in range(g.num_channels)]
    return g, names, [g.get_channel_data(k) for k in range(g.num_channels)]


def export_csv(isx: Any, path: Path, tmp_path: Path, time_ref: str = "start") -> str:
    out = tmp_path / f"{path.stem}-{time_ref}.csv"
    isx.export_gpio_set_to_csv([str(path)], str(out), inter_isxd_file_dir=str(tmp_path), time_ref=time_ref)
    return out.read_text()


def assert_timing(official: Any, timing: Timing) -> None:
    assert official.num_samples == timing.num_samples
    assert Fraction(official.period._impl.num, official.period._impl.den) == timing.period.to_fraction()
    start = official.start._impl.secs_since_epoch
    assert Fraction(start.num, start.den) == timing.start.secs_since_epoch.to_fraction()
    assert official.start._impl.utc_offset == timing.start.utc_offset


# -- sparse GPIO -----------------------------------------------------------------------------------
def test_sparse_gpio_reads_in_official_reader_and_csv(isx: Any, tmp_path: Path) -> None:
    timing = Timing(num_samples=3000, period=Duration(1, 1000), start=START)
    names = ["GPIO-1", "BNC Sync Output", "e-focus ✓", "never set"]
    data = [
        ([2_500_000, 0, 1_000_000, 1_500_249], [0.0, 1.0, 0.0, 1.0]),  # unsorted
        (np.array([[5], [17], [999_999]]), [1, 0, 1]),  # (k, 1) offsets as np.argwhere gives, ints as values
        (np.array([0.0, 1_000_001.0]), np.array([500.0, 0.1234567891], dtype=np.float64)),  # whole-valued floats
        ([], []),
    ]
    path = tmp_path / "gpio.isxd"
    write_gpio_set(data, path, timing=timing, channel_names=names, extra_properties={"note": "ttl"})
    expected = [sorted_channel(np.ravel(o), v) for o, v in data]

    g, got_names, got = read_official(isx, path)
    assert got_names == names
    assert_timing(g.timing, timing)
    for (offs, vals), (got_offs, got_vals) in zip(expected, got):
        np.testing.assert_array_equal(got_offs, official_offsets(offs))
        np.testing.assert_array_equal(got_vals, vals)
    assert export_csv(isx, path, tmp_path) == gpio_csv(names, expected)
    assert export_csv(isx, path, tmp_path, "unix") == gpio_csv(names, expected, START)

    # Footer and bytes, decoded independently: channels one after another, sorted, all sparse.
    data_bytes, footer = split_file(path)
    assert footer["type"] == 3 and footer["signalTypes"] == [0, 0, 0, 0]
    assert footer["channel list"] == names and footer["extraProperties"] == {"note": "ttl"}
    assert footer["numSamples"] == [4, 3, 2, 0] and footer["startOffsets"] == [0, 5, 0, 0]
    packets = np.frombuffer(data_bytes, dtype=PACKET)
    np.testing.assert_array_equal(packets["channel"], np.repeat(np.arange(4), [4, 3, 2, 0]))
    np.testing.assert_array_equal(packets["offset"], np.concatenate([e[0] for e in expected]))

    # Our reader and our GpioSet give the stored offsets exactly.
    f = GpioSetFile(path)
    ours = GpioSet.read(path)
    assert f.channel_names == tuple(names) and ours.num_channels == 4
    for k, (offs, vals) in enumerate(expected):
        for reader in (f, ours):
            got_offs, got_vals = reader.get_channel_data(k)
            assert got_offs.dtype == np.uint64 and got_vals.dtype == np.float32
            np.testing.assert_array_equal(got_offs, offs)
            np.testing.assert_array_equal(got_vals, vals)


def test_timing_round_trips_exactly_at_any_period(isx: Any, tmp_path: Path) -> None:
    for k, (n, period) in enumerate([(10, Duration(1, 3000)), (7, Duration(1, 30)), (1001, Duration(50, 1000))]):
        timing = Timing(num_samples=n, period=period, start=START)
        path = tmp_path / f"t{k}.isxd"
        write_gpio_set([([0], [1.0])], path, timing=timing, channel_names=["GPIO-1"])
        official = isx.GpioSet.read(str(path))  # kept alive: its timing points into the C object
        assert_timing(official.timing, timing)
        assert GpioSet.read(path).timing == timing


# -- dense GPIO ------------------------------------------------------------------------------------
def test_dense_dask_gpio_matches_official(isx: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=(3, 250)) * 100  # float64, stored as float32
    values[1] = np.round(values[1]) > 0  # a TTL line sampled densely
    period = Duration(1, 30)
    timing = Timing(num_samples=250, period=period, start=START)
    names = ["LED power", "GPIO-2", "analog"]
    path = tmp_path / "dense.isxd"
    write_gpio_set(
        da.from_array(values, chunks=(2, 70)), path, timing=timing, channel_names=names,
        signal_types=["dense", "sparse", 1], compute_kwargs={"scheduler": "threads"},
    )
    grid = np.array([sample_offset(Fraction(1, 30), i) for i in range(250)], dtype=np.uint64)
    expected = [(grid, values[c].astype(np.float32)) for c in range(3)]

    g, got_names, got = read_official(isx, path)
    assert got_names == names
    assert_timing(g.timing, timing)
    for (offs, vals), (got_offs, got_vals) in zip(expected, got):
        np.testing.assert_array_equal(got_offs, official_offsets(offs))
        np.testing.assert_array_equal(got_vals, vals)
    assert export_csv(isx, path, tmp_path) == gpio_csv(names, expected)

    data_bytes, footer = split_file(path)
    assert footer["signalTypes"] == [1, 0, 1] and footer["numSamples"] == [250] * 3 and footer["startOffsets"] == [0] * 3
    packets = np.frombuffer(data_bytes, dtype=PACKET).reshape(3, 250)
    np.testing.assert_array_equal(packets["offset"], np.broadcast_to(grid, (3, 250)))
    np.testing.assert_array_equal(packets["channel"], np.repeat(np.arange(3), 250).reshape(3, 250))
    np.testing.assert_array_equal(packets["value"], values.astype(np.float32))

    f = GpioSetFile(path)
    assert [int(t) for t in f.signal_types] == [1, 0, 1]
    np.testing.assert_array_equal(f.get_channel_samples(2), values[2].astype(np.float32))
    lazy = f.packets
    assert isinstance(lazy, da.Array) and lazy.shape == (750, 20)
    np.testing.assert_array_equal(np.asarray(lazy.compute()).reshape(-1).view(PACKET)["value"], packets["value"].ravel())


def test_dense_numpy_bytes_do_not_depend_on_chunks(tmp_path: Path) -> None:
    values = np.arange(4 * 33, dtype=np.int32).reshape(4, 33)
    timing = Timing(num_samples=33, period=Duration(1, 1000))
    a, b = tmp_path / "a.isxd", tmp_path / "b.isxd"
    write_gpio_set(values, a, timing=timing, channel_names=list("abcd"))
    write_gpio_set(da.from_array(values, chunks=(3, 5)), b, timing=timing, channel_names=list("abcd"))
    assert a.read_bytes() == b.read_bytes()


# -- IMU ----------------------------------------------------------------------------------------------
def test_dense_imu_reads_in_official_reader_and_csv(isx: Any, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=(9, 40)).astype(np.float32) * np.float32(1000)
    timing = Timing(num_samples=40, period=Duration(1, 50), start=START)
    path = tmp_path / "imu.isxd"
    write_imu_set(da.from_array(values, chunks=(4, 16)), path, timing=timing)
    grid = np.array([sample_offset(Fraction(1, 50), i) for i in range(40)], dtype=np.uint64)
    expected = [(grid, values[c]) for c in range(9)]

    g, names, got = read_official(isx, path)
    assert names == IMU_NAMES
    assert_timing(g.timing, timing)
    for (offs, vals), (got_offs, got_vals) in zip(expected, got):
        np.testing.assert_array_equal(got_offs, official_offsets(offs))
        np.testing.assert_array_equal(got_vals, vals)  # .isxd: no scaling on read
    assert export_csv(isx, path, tmp_path) == imu_csv(IMU_NAMES, expected)
    _, footer = split_file(path)
    assert footer["type"] == 7 and footer["signalTypes"] == [1] * 9


def test_sparse_imu_with_slower_magnetometer(isx: Any, tmp_path: Path) -> None:
    timing = Timing(num_samples=100, period=Duration(1, 50))
    acc_offsets = np.arange(100, dtype=np.uint64) * 20_000
    mag_offsets = acc_offsets[::20]
    rng = np.random.default_rng(11)
    data = [(acc_offsets, rng.integers(-16384, 16384, 100)) for _ in range(6)]
    data += [(mag_offsets, rng.normal(size=5)) for _ in range(3)]
    names = [n.upper() for n in IMU_NAMES]
    path = tmp_path / "imu_sparse.isxd"
    write_imu_set(data, path, timing=timing, channel_names=names, signal_types=["dense"] * 6 + ["sparse"] * 3)
    expected = [sorted_channel(o, v) for o, v in data]
    _, got_names, got = read_official(isx, path)
    assert got_names == names
    for (offs, vals), (got_offs, got_vals) in zip(expected, got):
        np.testing.assert_array_equal(got_offs, official_offsets(offs))
        np.testing.assert_array_equal(got_vals, vals)
    assert export_csv(isx, path, tmp_path) == imu_csv(names, expected)


# -- GpioSet against the official class ------------------------------------------------------------
def test_gpioset_matches_official_class(isx: Any, tmp_path: Path) -> None:
    timing = Timing(num_samples=500, period=Duration(1, 100), start=START)
    names = ["GPIO-1", "GPIO-2", "名前"]
    data = [([0, 10_000], [1, 0]), ([], []), ([4_990_000], [3.5])]
    path = tmp_path / "g.isxd"
    write_gpio_set(data, path, timing=timing, channel_names=names, extra_properties={"a": [1, 2]})
    official, ours = isx.GpioSet.read(str(path)), GpioSet.read(path)
    assert ours.num_channels == official.num_channels == 3
    assert ours.channel_dict == official.channel_dict
    assert ours.get_channel_index("名前") == official.get_channel_index("名前") == 2
    assert ours.file_path == official.file_path == str(path)
    assert ours.mode == official.mode == "r"
    assert ours.get_acquisition_info() == official.get_acquisition_info()  # None for .isxd GPIO sets
    assert ours.extra_properties == {"a": [1, 2]}
    assert (ours.timing.num_samples, ours.timing.period.to_fraction()) == (official.timing.num_samples, Fraction(1, 100))
    for k in range(3):
        assert ours.get_channel_name(k) == official.get_channel_name(k)
        for a, b in zip(ours.get_channel_data(k), official.get_channel_data(k)):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    with pytest.raises(Exception, match="Channel index 3 is too large") as official_error:
        official.get_channel_data(3)
    with pytest.raises(IndexError, match="Channel index 3 is too large"):
        ours.get_channel_data(3)
    assert "Channel index 3 is too large" in str(official_error.value)
    with pytest.raises(TypeError):
        ours.get_channel_name("0")
    with pytest.raises(KeyError, match="does not exist"):
        ours.get_channel_index("nope")
    assert "num_channels: 3" in str(ours) and "GPIO Set" in str(ours)
    empty = GpioSet()
    assert empty.num_channels is None and empty.file_path is None and isinstance(str(empty), str)


def test_readers_refuse_other_types(tmp_path: Path) -> None:
    from isx_dask.writers.event_set import write_event_set

    path = tmp_path / "events.isxd"
    write_event_set([[0]], [[1.0]], path, timing=Timing(num_samples=5), cell_names=["C0"])
    with pytest.raises(IsxdFormatError, match="GPIO"):
        GpioSetFile(path)
    with pytest.raises(IsxdFormatError, match="GPIO"):
        GpioSet.read(path)


# -- options ---------------------------------------------------------------------------------------
def test_compute_false_overwrite_and_metadata_from(isx: Any, tmp_path: Path) -> None:
    timing = Timing(num_samples=20, period=Duration(1, 20), start=START)
    source = tmp_path / "source.isxd"
    write_gpio_set([([0], [1.0]), ([50_000], [2.0])], source, timing=timing, channel_names=["x", "y"], extra_properties={"s": 1})
    path = tmp_path / "out.isxd"
    delayed = write_gpio_set(np.ones((2, 20)), path, metadata_from=source, compute=False)
    assert isinstance(delayed, Delayed) and not path.exists()
    delayed.compute()
    g, names, got = read_official(isx, path)
    assert names == ["x", "y"]
    assert_timing(g.timing, timing)
    assert split_file(path)[1]["extraProperties"] == {"s": 1}
    write_gpio_set([([5], [7.0])], path, timing=timing, channel_names=["z"], overwrite=True)
    assert read_official(isx, path)[1] == ["z"]
    assert leftovers(tmp_path) == []


T = Timing(num_samples=100, period=Duration(1, 1000))
OK = [([0, 10], [1.0, 0.0])]


@pytest.mark.parametrize(
    ("data", "kwargs", "error", "match"),
    [
        (OK, {"timing": None}, TypeError, "timing is required"),
        (OK, {"timing": 5}, TypeError, "timing must be"),
        (OK, {"channel_names": None}, TypeError, "channel_names is required"),
        (OK, {"channel_names": "a"}, TypeError, "channel_names must be a list"),
        (OK * 2, {"channel_names": ["a", "a"]}, ValueError, "unique"),
        (OK, {"channel_names": ["é" * 128]}, ValueError, "256 UTF-8 bytes"),
        (OK, {"channel_names": ["a\x00b"]}, ValueError, "NUL"),
        (OK, {"channel_names": ["a", "b"]}, ValueError, "2 names but data has 1 channels"),
        ([([-1], [1.0])], {}, ValueError, "negative"),
        ([([100_000], [1.0])], {}, ValueError, "past the end"),
        ([([1.5], [1.0])], {}, TypeError, "whole microseconds"),
        ([([3, 3], [1.0, 2.0])], {}, ValueError, "repeat 3 us"),
        ([([3, 4], [1.0])], {}, ValueError, "2 offsets but 1 values"),
        ([([3], [np.nan])], {}, ValueError, "finite"),
        ([([3], [np.inf])], {}, ValueError, "finite"),
        ([([3], [1e300])], {}, ValueError, "float32 range"),
        ([([3], ["a"])], {}, TypeError, "real numbers"),
        ([[3]], {}, TypeError, r"\(offsets, values\) pair"),
        ("abc", {}, TypeError, "list of"),
        ([], {"channel_names": []}, ValueError, "no channels"),
        (OK, {"signal_types": ["analog"]}, ValueError, "'sparse' \\(0\\) or 'dense'"),
        (OK, {"signal_types": [0, 1]}, ValueError, "signal_types has 2 entries"),
        (OK, {"signal_types": ["dense"]}, ValueError, "not the offset 1000 us of sample 1"),
        (OK, {"timing": Timing(num_samples=100, dropped=[3])}, ValueError, "dropped, cropped or blank"),
        (OK, {"overwrite": 1}, TypeError, "overwrite must be True or False"),
        (OK, {"compute_kwargs": "threads"}, TypeError, "compute_kwargs must be a dict"),
        (OK, {"extra_properties": {"x": float("nan")}}, ValueError, "finite"),
        (np.zeros((1, 99)), {}, ValueError, "99 samples per channel but timing.num_samples is 100"),
        (np.zeros(100), {}, ValueError, "2 dimensions"),
        (np.full((1, 100), np.nan), {}, ValueError, "non-finite values .* in channel 0"),
        (da.from_array(np.r_[np.zeros(99), np.inf][None].repeat(2, 0), chunks=(1, 30)), {"channel_names": ["a", "b"]}, ValueError, "channel 0"),
        (np.zeros((1, 100), dtype=complex), {}, TypeError, "real numbers"),
        (np.zeros((1, 100)), {"timing": Timing(num_samples=100, period=Duration(1, 2_000_000))}, ValueError, "under 1 us"),
    ],
)
def test_bad_gpio_input_is_refused_before_anything_is_created(
    tmp_path: Path, data: Any, kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    options: dict[str, Any] = {"timing": T, "channel_names": ["GPIO-1"], **kwargs}
    before = directory_state(tmp_path)
    with pytest.raises(error, match=match):
        write_gpio_set(data, tmp_path / "bad.isxd", **options)
    assert directory_state(tmp_path) == before


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([([0], [1.0])] * 8, "has 9 channels"),
        (np.zeros((3, 100)), "has 9 channels"),
        ([([0], [1.0])] * 5 + [([1], [1.0])] + [([0], [1.0])] * 3, "channels 0 to 5"),
        ([([0], [1.0])] * 8 + [([0, 1], [1.0, 2.0])], "channels 6 to 8"),
    ],
)
def test_bad_imu_input_is_refused(tmp_path: Path, data: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        write_imu_set(data, tmp_path / "imu.isxd", timing=T)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_and_bad_path_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "exists.isxd"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_gpio_set(OK, path, timing=T, channel_names=["a"])
    assert path.read_bytes() == b"keep"
    with pytest.raises(ValueError, match="isxd"):
        write_gpio_set(OK, tmp_path / "x.csv", timing=T, channel_names=["a"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists.isxd"]


# -- values float32 cannot hold: refused unless casting allows the change --------------------------
BIG = 2**24 + 1  # the first integer float32 cannot hold: it would be stored as 16777216


@pytest.mark.parametrize("dtype", [np.int64, np.uint32])
@pytest.mark.parametrize("lazy", [False, True], ids=["numpy", "dask"])
def test_dense_integers_float32_would_round_are_refused(tmp_path: Path, dtype: Any, lazy: bool) -> None:
    data = np.zeros((2, 100), dtype=dtype)
    data[1, 42] = BIG
    before = directory_state(tmp_path)
    with pytest.raises(ValueError, match=r"data holds 1 value\(s\).* float32 cannot hold exactly \(e.g. .*16777217.* at index \(1, 42\)\).*casting='unsafe'"):
        write_gpio_set(da.from_array(data, chunks=(1, 30)) if lazy else data, tmp_path / "g.isxd", timing=T, channel_names=["a", "b"])
    assert directory_state(tmp_path) == before
    assert leftovers(tmp_path) == []


def test_sparse_integers_float32_would_round_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"data\[0\] values holds 1 value\(s\) that float32 cannot hold exactly .*at index \(1,\)"):
        write_gpio_set([([0, 10], np.array([0, BIG]))], tmp_path / "g.isxd", timing=T, channel_names=["a"])
    with pytest.raises(TypeError, match=r"data has dtype int64, which cannot be cast to float32 under casting='safe'"):
        write_imu_set(np.zeros((9, 100), np.int64), tmp_path / "imu.isxd", timing=T, casting="safe")
    assert list(tmp_path.iterdir()) == []


def test_integers_float32_holds_are_exact_and_unsafe_rounds(isx: Any, tmp_path: Path) -> None:
    exact = np.zeros((1, 100), dtype=np.int64)
    exact[0, :3] = [2**25, -(2**24), 2**40]
    write_gpio_set(da.from_array(exact, chunks=(1, 30)), tmp_path / "exact.isxd", timing=T, channel_names=["a"])
    values = isx.GpioSet.read(str(tmp_path / "exact.isxd")).get_channel_data(0)[1]
    np.testing.assert_array_equal(values.astype(np.float64), exact[0].astype(np.float64))
    rounded = exact.copy()
    rounded[0, 3] = BIG
    write_gpio_set(rounded, tmp_path / "rounded.isxd", timing=T, channel_names=["a"], casting="unsafe")
    assert isx.GpioSet.read(str(tmp_path / "rounded.isxd")).get_channel_data(0)[1][3] == 16777216.0
    write_gpio_set([([0, 10], np.array([0, BIG]))], tmp_path / "sparse.isxd", timing=T, channel_names=["a"], casting="same_kind")
    assert isx.GpioSet.read(str(tmp_path / "sparse.isxd")).get_channel_data(0)[1].tolist() == [0.0, 16777216.0]
