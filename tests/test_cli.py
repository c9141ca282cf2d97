"""The ``isx-dask`` command line: info on every type, convert through the source table, exit codes and one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import zarr
from conftest import GOLDEN_DIR, manifest_entry, split_file

import isx_dask as xd
from isx_dask import cli


def new_zarr_array(path, data):
    """A Zarr array made with the installed zarr (zarr-python 2.18 on Python 3.10 has no create_array)."""
    if hasattr(zarr, "create_array"):
        return zarr.create_array(path, data=data)
    return zarr.array(data, store=path, chunks=True)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def info_json(capsys, path: Path) -> dict:
    code, out, err = run(capsys, "info", str(path), "--json")
    assert code == 0, err
    return json.loads(out)


def assert_one_line_error(err: str, command: str, *words: str) -> None:
    assert err.startswith(f"isx-dask {command}: error: "), err
    assert err.count("\n") == 1, err
    for word in words:
        assert word in err, (word, err)


def expected_timing(spec: dict) -> dict:
    """The info fields of a manifest timing, computed here from the manifest's exact numbers."""
    period = Fraction(spec["period"]["num"], spec["period"]["den"])
    start = Fraction(spec["start_secs_since_epoch"]["num"], spec["start_secs_since_epoch"]["den"])
    zone = dt.timezone(dt.timedelta(seconds=spec["utc_offset"]))
    when = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=int(start * 10**6))
    cropped = sum(b - a + 1 for a, b in spec["cropped"])
    return {
        "num_samples": spec["num_samples"],
        "period_s": float(period),
        "rate_hz": float(1 / period),
        "start": when.astimezone(zone).isoformat(),
        "dropped": len(spec["dropped"]),
        "cropped": cropped,
        "blank": len(spec["blank"]),
        "valid": spec["num_samples"] - len(spec["dropped"]) - cropped - len(spec["blank"]),
    }


# -- info: every type, compared with the inputs the golden files were written from ---------------


MOVIES = ["movie_u16.isxd", "movie_f32.isxd", "movie_u16_dropped.isxd", "movie_u8.isxd", "movie_u16_frameheaders.isxd"]


@pytest.mark.parametrize("name", MOVIES)
def test_info_movie(capsys, name):
    entry = manifest_entry(name)
    info = info_json(capsys, GOLDEN_DIR / name)
    assert info["type"] == "movie"
    assert info["frames"] == entry["frames"]["shape"][0]
    assert info["shape"] == entry["frames"]["shape"] and info["dtype"] == entry["data_type"]
    assert {k: info["timing"][k] for k in expected_timing(entry["timing"])} == expected_timing(entry["timing"])
    assert info["spacing"] == {"num_pixels": entry["spacing"]["num_pixels"], "pixel_size_um": [3.0, 3.0], "top_left_um": [0.0, 0.0]}
    assert info["file_size_bytes"] == entry["size_bytes"]


def test_info_movie_text_shows_seconds_hz_dates_and_um(capsys):
    code, out, _ = run(capsys, "info", str(GOLDEN_DIR / "movie_u16.isxd"))
    assert code == 0
    # manifest: period 50/1000 s, start 1700000000.123 s at UTC-8 h, 12 frames of 5 x 7 uint16
    assert "12 frames of 5 x 7 pixels, uint16" in out
    assert "every 0.05 s (20 Hz)" in out
    assert "start 2023-11-14 14:13:20.123 (UTC-08:00)" in out
    assert "5 x 7 pixels of 3 x 3 " in out and "m, top left (0, 0)" in out
    assert "/" not in out.split(":", 1)[1].replace("tests/data/golden", "")  # no raw ratios such as 50/1000
    code, out, _ = run(capsys, "info", str(GOLDEN_DIR / "movie_u16_dropped.isxd"))
    assert "2 dropped [3, 9], 2 cropped [5-6], 1 blank [12]; 11 valid" in out


def test_info_extra_properties_keys(capsys):
    entry = manifest_entry("movie_u16_frameheaders.isxd")
    passed = json.loads(entry["extra_properties_json_passed"])
    info = info_json(capsys, GOLDEN_DIR / "movie_u16_frameheaders.isxd")
    assert set(passed) <= set(info["extra_properties_keys"])
    code, out, _ = run(capsys, "info", str(GOLDEN_DIR / "movie_u16_frameheaders.isxd"))
    assert "  extra    " + ", ".join(info["extra_properties_keys"]) in out


@pytest.mark.parametrize("name", ["image_u16.isxd", "image_f32.isxd"])
def test_info_image(capsys, name):
    entry = manifest_entry(name)
    info = info_json(capsys, GOLDEN_DIR / name)
    assert info["type"] == "image" and info["shape"][1:] == entry["data"]["shape"] and info["dtype"] == entry["data_type"]
    code, out, _ = run(capsys, "info", str(GOLDEN_DIR / name))
    assert f"image, {entry['data']['shape'][0]} x {entry['data']['shape'][1]} pixels" in out
    assert "samples" not in out  # not "1 samples"


@pytest.mark.parametrize("name", ["cellset.isxd", "cellset_dropped.isxd", "cellset_empty.isxd"])
def test_info_cell_set(capsys, name):
    entry = manifest_entry(name)
    info = info_json(capsys, GOLDEN_DIR / name)
    num_cells = len(entry.get("names", []))
    statuses = entry.get("statuses", ["undecided"] * num_cells)
    assert info["type"] == "cell set" and info["cells"] == num_cells
    assert info["statuses"] == {s: statuses.count(s) for s in ("accepted", "undecided", "rejected")}
    assert {k: info["timing"][k] for k in expected_timing(entry["timing"])} == expected_timing(entry["timing"])
    code, out, _ = run(capsys, "info", str(GOLDEN_DIR / name))
    assert f"{num_cells} cells ({statuses.count('accepted')} accepted" in out


@pytest.mark.parametrize("name", ["eventset.isxd", "eventset_unordered.isxd"])
def test_info_event_set(capsys, name):
    entry = manifest_entry(name)
    if "offsets_us" in entry:
        counts = [len(o["values"]) for o in entry["offsets_us"]]
    else:  # set_cell_data calls: each call adds its events to the cell (see the manifest's expected_read)
        counts = [sum(len(c["offsets_us"]["values"]) for c in entry["calls"] if c["index"] == k)
                  for k in range(len(entry["cell_names"]))]
    info = info_json(capsys, GOLDEN_DIR / name)
    assert info["type"] == "event set" and info["cells"] == len(entry["cell_names"])
    assert info["events"] == {"total": sum(counts), "min": min(counts), "median": float(np.median(counts)), "max": max(counts)}
    assert info["timing"]["start"] == expected_timing(entry["timing"])["start"]


@pytest.mark.parametrize("name", ["vesselset_diameter.isxd", "vesselset_rbc.isxd", "vesselset_rbc_heatmaps.isxd"])
def test_info_vessel_set(capsys, name):
    entry = manifest_entry(name)
    num = entry["lines"]["shape"][0]
    statuses = ["undecided"] * num
    if name == "vesselset_diameter.isxd":  # set_vessel_status(0, 'accepted'); set_vessel_status(2, 'rejected')
        statuses[0], statuses[2] = "accepted", "rejected"
    info = info_json(capsys, GOLDEN_DIR / name)
    assert info["type"] == "vessel set" and info["vessels"] == num and info["vessel_type"] == entry["vessel_type"]
    assert info["statuses"] == {s: statuses.count(s) for s in ("accepted", "undecided", "rejected")}
    assert info["correlation_heatmaps"] == ("heatmaps" in entry)
    assert info["timing"]["period_s"] == entry["timing"]["period"]["num"] / entry["timing"]["period"]["den"]


def test_info_gpio_set_counts_channels(capsys, tmp_path):
    from isx_dask.writers.gpio import write_gpio_set

    timing = xd.Timing(num_samples=100, period=xd.Duration(1, 1000))
    data = [(np.array([0, 5000, 9000]), np.array([1.0, 0.0, 1.0])), (np.array([2000]), np.array([3.5]))]
    write_gpio_set(data, tmp_path / "g.isxd", timing=timing, channel_names=["GPIO-1", "BNC Sync"])
    if not hasattr(xd.open_isxd(tmp_path / "g.isxd"), "num_channels"):
        pytest.skip("open_isxd does not return the GPIO reader yet (GpioSetFile not in readers.READERS)")
    info = info_json(capsys, tmp_path / "g.isxd")
    assert info["type"] == "GPIO set" and info["channels"] == 2 and info["channel_names"] == ["GPIO-1", "BNC Sync"]
    assert info["samples"]["total"] == 4 and info["timing"]["rate_hz"] == 1000.0


def test_info_start_time_and_the_epoch(capsys, tmp_path):
    code, out, _ = run(capsys, "info", str(GOLDEN_DIR / "movie_u16_dropped.isxd"))  # official writer: start at the epoch
    assert "start 1970-01-01 00:00:00 (UTC+00:00); the epoch: no start time was recorded" in out
    start = dt.datetime(2021, 6, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    timing = xd.Timing(num_samples=3, period=xd.Duration(1, 30), start=xd.Time.from_datetime(start))
    xd.write_movie(np.zeros((3, 4, 5), np.uint16), tmp_path / "t.isxd", timing=timing,
                   spacing=xd.Spacing(num_pixels=(4, 5), pixel_size=(Fraction(1, 2), Fraction(1, 2))))
    code, out, _ = run(capsys, "info", str(tmp_path / "t.isxd"))
    assert "epoch" not in out and "(30 Hz)" in out and "start 2021-06-01 12:30:00 (UTC+02:00)" in out
    assert "pixels of 0.5 x 0.5 " in out
    assert info_json(capsys, tmp_path / "t.isxd")["timing"]["start"] == "2021-06-01T12:30:00+02:00"


def test_info_errors(capsys, tmp_path):
    code, _, err = run(capsys, "info", str(tmp_path / "missing.isxd"))
    assert code == 2
    assert_one_line_error(err, "info", "PATH", "missing.isxd")
    (tmp_path / "junk.isxd").write_bytes(b"not an isxd file at all")
    code, _, err = run(capsys, "info", str(tmp_path / "junk.isxd"))
    assert code == 2
    assert_one_line_error(err, "info", "junk.isxd")


# -- the command itself -------------------------------------------------------------------------------


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"isx-dask (isx_dask) {xd.__version__}"


def test_bare_command_lists_the_commands_and_exits_2(capsys):
    code, out, err = run(capsys)
    assert code == 2 and out == ""
    for command in ("demo", "info", "convert"):
        assert command in err
    assert err.strip().splitlines()[-1].startswith("isx-dask: error: a command is needed")


@pytest.mark.parametrize("argv", [["info"], ["nonsense"], ["info", "a", "b"], ["convert", "a.isxd"], ["demo", "--size", "huge"]])
def test_argparse_errors_are_one_line_exit_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and ": error: " in err and "--help" in err


# -- convert -------------------------------------------------------------------------------------


def test_convert_isxd_to_zarr_and_back(isx, tmp_path, capsys):
    source = GOLDEN_DIR / "movie_u16_dropped.isxd"
    code, out, _ = run(capsys, "convert", str(source), str(tmp_path / "m.zarr"), "--chunks", "4", "--compressor", "lz4",
                       "--clevel", "3", "--zarr-format", "2", "--no-progress")
    assert code == 0 and "Converted" in out and "(isxd)" in out
    meta = json.loads((tmp_path / "m.zarr" / "frames" / ".zarray").read_text())
    assert meta["chunks"] == [4, 5, 7] and meta["compressor"]["cname"] == "lz4" and meta["compressor"]["clevel"] == 3
    code, _, err = run(capsys, "convert", str(tmp_path / "m.zarr"), str(tmp_path / "back.isxd"))
    assert code == 0, err
    assert "\r" not in err  # not a terminal: no carriage-return bar
    assert split_file(tmp_path / "back.isxd")[0] == split_file(source)[0]
    movie = isx.Movie.read(str(tmp_path / "back.isxd"))
    assert list(movie.timing.dropped) == [3, 9]


def test_convert_with_explicit_period_pixel_size_and_dtype(isx, tmp_path, capsys):
    new_zarr_array(str(tmp_path / "f64.zarr"), np.arange(24, dtype=np.float64).reshape(2, 3, 4))
    code, _, err = run(capsys, "convert", str(tmp_path / "f64.zarr"), str(tmp_path / "x.isxd"))
    assert code == 2
    assert_one_line_error(err, "convert", "--dtype")
    code, _, err = run(capsys, "convert", str(tmp_path / "f64.zarr"), str(tmp_path / "x.isxd"), "--dtype", "float32",
                       "--period", "1/30", "--pixel-size", "2.5", "--scheduler", "synchronous")
    assert code == 0, err
    movie = isx.Movie.read(str(tmp_path / "x.isxd"))
    period = movie.timing.period._impl
    assert Fraction(period.num, period.den) == Fraction(1, 30)
    width = movie.spacing._impl.pixel_width
    assert Fraction(width.num, width.den) == Fraction(5, 2)
    np.testing.assert_array_equal(movie.get_frame_data(1), np.arange(12, 24, dtype=np.float32).reshape(3, 4))


def test_convert_dtype_changes_no_value_unless_casting_unsafe(isx, tmp_path, capsys):
    data = np.array([1, 300, 2, 3], dtype=np.uint16).reshape(2, 1, 2)
    new_zarr_array(str(tmp_path / "u16.zarr"), data)
    common = ["--dtype", "uint8", "--period", "0.05", "--pixel-size", "3", "--no-progress"]
    code, _, err = run(capsys, "convert", str(tmp_path / "u16.zarr"), str(tmp_path / "x.isxd"), *common)
    assert code == 2
    assert_one_line_error(err, "convert", "casting")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u16.zarr"]
    code, _, err = run(capsys, "convert", str(tmp_path / "u16.zarr"), str(tmp_path / "x.isxd"), *common, "--casting", "unsafe")
    assert code == 0, err
    movie = isx.Movie.read(str(tmp_path / "x.isxd"))
    np.testing.assert_array_equal(movie.get_frame_data(0), np.array([[1, 300 % 256]], np.uint8))


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["{g}/movie_u16.isxd", "{t}/out.txt"], ["DST", ".zarr"]),
        (["{t}/notes.txt", "{t}/out.isxd"], ["SRC", "--from"]),
        (["{t}/missing.isxd", "{t}/out.zarr"], ["SRC", "does not exist"]),
        (["{t}/missing.zarr", "{t}/out.isxd"], ["SRC", "does not exist"]),
        (["{g}/movie_u16.isxd", "{t}/out.zarr", "--chunks", "0"], ["--chunks"]),
        (["{g}/movie_u16.isxd", "{t}/out.zarr", "--period", "0.05"], ["--period", "isxd"]),
        (["{t}/src.zarr", "{t}/out.isxd", "--period", "1e-30"], ["--period", "64-bit"]),
        (["{t}/src.zarr", "{t}/out.isxd", "--pixel-size", "-2"], ["--pixel-size", "> 0"]),
        (["{t}/src.zarr", "{t}/out.isxd", "--compressor", "lz4"], ["--compressor", "zarr"]),
        (["{t}/src.zarr", "{t}/src.zarr/out.isxd"], ["DST", "inside the source SRC"]),
        (["{g}/eventset.isxd", "{t}/out.zarr"], ["not supported"]),
        (["{t}/src.zarr", "{t}/out.isxd", "--from", "suite2p", "--period", "0.1"], ["--period", "suite2p", "--frame-rate"]),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, words):
    new_zarr_array(str(tmp_path / "src.zarr"), np.ones((2, 3, 4), np.uint16))
    (tmp_path / "notes.txt").write_text("x")
    argv = [a.format(g=GOLDEN_DIR, t=tmp_path) for a in argv]
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    code, _, err = run(capsys, "convert", *argv, "--no-progress")
    assert code == 2
    assert_one_line_error(err, "convert", *words)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_a_target_in_the_source_is_refused_before_anything(tmp_path, capsys, golden):
    source = golden("movie_u16.isxd")
    zarr_dir = tmp_path / "m.zarr"
    assert run(capsys, "convert", str(source), str(zarr_dir), "--no-progress")[0] == 0
    (zarr_dir / "old.isxd").write_bytes(source.read_bytes())
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for argv in ([str(zarr_dir), str(zarr_dir / "old.isxd")], [str(zarr_dir / "old.isxd"), str(zarr_dir)]):
        code, _, err = run(capsys, "convert", *argv, "--overwrite", "--no-progress")
        assert code == 2
        assert_one_line_error(err, "convert", "DST", "source SRC")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot


def test_existing_target_needs_overwrite(tmp_path, capsys):
    target = tmp_path / "m.zarr"
    assert run(capsys, "convert", str(GOLDEN_DIR / "movie_u16.isxd"), str(target), "--no-progress")[0] == 0
    code, _, err = run(capsys, "convert", str(GOLDEN_DIR / "movie_u16.isxd"), str(target), "--no-progress")
    assert code == 2
    assert_one_line_error(err, "convert", "--overwrite")
    assert run(capsys, "convert", str(GOLDEN_DIR / "movie_f32.isxd"), str(target), "--overwrite", "--no-progress")[0] == 0
    assert zarr.open_group(str(target), mode="r")["frames"].dtype == np.float32


@pytest.mark.parametrize("argv", [["--compressor", "brotli"], ["--clevel", "12"], ["--scheduler", "bogus"], ["--from", "excel"]])
def test_bad_option_values_are_usage_errors(tmp_path, capsys, argv):
    code, _, err = run(capsys, "convert", str(GOLDEN_DIR / "movie_u16.isxd"), str(tmp_path / "o.zarr"), *argv)
    assert code == 2
    assert err.startswith("isx-dask convert: error: ") and argv[0] in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_failure_while_running_exits_1(tmp_path, capsys, monkeypatch):
    import isx_dask.convert

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(isx_dask.convert, "isxd_to_zarr", boom)
    code, _, err = run(capsys, "convert", str(GOLDEN_DIR / "movie_u16.isxd"), str(tmp_path / "o.zarr"))
    assert code == 1
    assert err == "isx-dask convert: failed: OSError: [Errno 28] No space left on device\n"


def test_source_table_lines_load_lazily(tmp_path, capsys, monkeypatch):
    missing = cli.SourceKind("nothing", "isx_dask.sources.not_written_yet:nothing_to_isxd", lambda p: p.endswith(".nothing"), "movie")
    monkeypatch.setattr(cli, "SOURCES", (*cli.SOURCES, missing))
    (tmp_path / "a.nothing").write_text("x")
    code, _, err = run(capsys, "convert", str(tmp_path / "a.nothing"), str(tmp_path / "o.isxd"))
    assert code == 2
    assert_one_line_error(err, "convert", "no nothing converter")
    names = [k.name for k in cli.SOURCES]
    assert len(names) == len(set(names))
    assert {"isxd", "zarr", "tiff", "miniscope", "caiman-mmap", "suite2p", "caiman", "minian", "cnmfe"} <= set(names)


def test_convert_tiff_through_the_table(isx, tmp_path, capsys):
    tifffile = pytest.importorskip("tifffile")
    data = np.random.default_rng(5).integers(0, 4000, (6, 4, 5)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", data)
    code, _, err = run(capsys, "convert", str(tmp_path / "stack.tif"), str(tmp_path / "t.isxd"))
    assert code == 2
    assert_one_line_error(err, "convert", "--period")  # a plain TIFF records no frame rate
    code, out, err = run(capsys, "convert", str(tmp_path / "stack.tif"), str(tmp_path / "t.isxd"), "--period", "1/25",
                         "--pixel-size", "1.5", "--no-progress")
    assert code == 0, err
    assert "(tiff)" in out
    movie = isx.Movie.read(str(tmp_path / "t.isxd"))
    np.testing.assert_array_equal(np.stack([movie.get_frame_data(i) for i in range(6)]), data)
    assert movie.timing.period.to_msecs() == 40


def test_distributed_scheduler_address(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        code, _, err = run(capsys, "convert", str(GOLDEN_DIR / "movie_f32.isxd"), str(tmp_path / "d.zarr"),
                           "--scheduler", cluster.scheduler_address)
    assert code == 0, err
    golden = np.fromfile(GOLDEN_DIR / "movie_f32.isxd", dtype="<f4", count=10 * 5 * 7).reshape(10, 5, 7)
    np.testing.assert_array_equal(zarr.open_group(str(tmp_path / "d.zarr"), mode="r")["frames"][...], golden)


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise():
    import io

    import dask.array as da

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, terminal in ((Terminal(), True), (io.StringIO(), False)):
        with cli._Progress("job", stream, interval=0.0):
            da.ones((40, 3), chunks=(1, 3)).sum().compute(scheduler="synchronous")
        text = stream.getvalue()
        assert ("\r" in text) == terminal
        assert "100%" in text.splitlines()[-1]
        if not terminal:
            assert all(line.startswith("job: ") for line in text.splitlines())


def test_python_dash_m_subprocess(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    ok = subprocess.run([sys.executable, "-m", "isx_dask", "convert", str(GOLDEN_DIR / "movie_u16.isxd"), str(tmp_path / "s.zarr")],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "Converted" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "isx_dask", "convert", str(tmp_path / "s.zarr"), str(tmp_path / "no" / "x.isxd")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("isx-dask convert: error: ") and len(bad.stderr.strip().splitlines()) == 1
    bare = subprocess.run([sys.executable, "-m", "isx_dask"], capture_output=True, text=True, env=env, timeout=120)
    assert bare.returncode == 2 and "convert" in bare.stderr


def test_source_kind_is_detected_from_the_path(tmp_path):
    plane = tmp_path / "suite2p" / "plane0"
    plane.mkdir(parents=True)
    for name in ("stat.npy", "F.npy"):
        (plane / name).write_bytes(b"")
    minian = tmp_path / "minian"
    minian.mkdir()
    for name in ("A.zarr", "C.zarr"):
        (minian / name).mkdir()
    miniscope = tmp_path / "My_V4_Miniscope"
    miniscope.mkdir()
    (miniscope / "metaData.json").write_text("{}")
    (miniscope / "0.avi").write_bytes(b"")
    cases = {
        "movie.isxd": "isxd", "session.zarr": "zarr", "s3://bucket/session.zarr": "zarr", "stack.TIF": "tiff",
        "Yr_d1_512_d2_512_d3_1_order_C_frames_100.mmap": "caiman-mmap", "caiman_results.hdf5": "caiman",
        "movie_output.h5": "cnmfe", str(plane): "suite2p", str(minian): "minian", str(miniscope): "miniscope",
    }
    for path, kind in cases.items():
        assert cli._find_kind(path, None).name == kind, path
    assert cli._find_kind("anything.h5", "caiman").name == "caiman"
    with pytest.raises(cli.UsageError, match="--from"):
        cli._find_kind(str(tmp_path / "results.h5"), None)
    with pytest.raises(cli.UsageError, match="could be zarr or tiff"):
        cli._find_kind("s3://bucket/stack.tif", None)


def test_convert_to_nwb_with_several_inputs(tmp_path, isx):
    pynwb = pytest.importorskip("pynwb")
    movie, events = tmp_path / "m.isxd", tmp_path / "e.isxd"
    timing = xd.Timing(num_samples=6, period=xd.Duration(1, 20))
    frames = np.arange(6 * 4 * 5, dtype=np.uint16).reshape(6, 4, 5)
    xd.write_movie(frames, movie, timing=timing, spacing=xd.Spacing(num_pixels=(4, 5)))
    xd.write_event_set([[50_000], [0, 100_000]], [[1.0], [2.0, 3.0]], events, timing=timing)
    out = tmp_path / "o.nwb"
    assert cli.main(["convert", str(movie), str(out), "--with", str(events)]) == 0
    with pynwb.NWBHDF5IO(str(out), "r") as io:
        nwb = io.read()
        series = next(iter(nwb.acquisition.values()))
        np.testing.assert_array_equal(np.asarray(series.data[:]).transpose(0, 2, 1), frames)
        assert len(nwb.events["events"].to_dataframe()) == 3
    assert cli.main(["convert", str(movie), str(tmp_path / "p.nwb"), "--period", "0.1"]) == 2
    assert not (tmp_path / "p.nwb").exists()
