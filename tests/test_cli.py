"""The ``isx-dask`` command line: convert both ways, exit codes and one-line errors, demo and info."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import zarr
from conftest import GOLDEN_DIR, split_file

from isx_dask import cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_convert_isxd_to_zarr_and_back(isx, tmp_path, capsys):
    source = GOLDEN_DIR / "movie_u16_dropped.isxd"
    code, out, _ = run(capsys, "convert", str(source), str(tmp_path / "m.zarr"), "--chunks", "4", "--compressor", "lz4",
                       "--clevel", "3", "--zarr-format", "2", "--no-progress")
    assert code == 0 and "Converted" in out
    meta = json.loads((tmp_path / "m.zarr" / "frames" / ".zarray").read_text())
    assert meta["chunks"] == [4, 5, 7] and meta["compressor"]["cname"] == "lz4" and meta["compressor"]["clevel"] == 3
    code, _, err = run(capsys, "convert", str(tmp_path / "m.zarr"), str(tmp_path / "back.isxd"))
    assert code == 0
    assert "100% Completed" in err  # the progress bar
    assert split_file(tmp_path / "back.isxd")[0] == split_file(source)[0]
    movie = isx.Movie.read(str(tmp_path / "back.isxd"))
    assert list(movie.timing.dropped) == [3, 9]


def test_convert_with_explicit_period_pixel_size_and_dtype(isx, tmp_path, capsys):
    zarr.create_array(str(tmp_path / "f64.zarr"), data=np.arange(24, dtype=np.float64).reshape(2, 3, 4))
    code, _, err = run(capsys, "convert", str(tmp_path / "f64.zarr"), str(tmp_path / "x.isxd"))
    assert code == 2 and err.startswith("isx-dask convert: error: ") and "--dtype" in err and err.count("\n") == 1
    code, _, _ = run(capsys, "convert", str(tmp_path / "f64.zarr"), str(tmp_path / "x.isxd"), "--dtype", "float32",
                     "--period", "1/30", "--pixel-size", "2.5", "--scheduler", "synchronous")
    assert code == 0
    movie = isx.Movie.read(str(tmp_path / "x.isxd"))
    period = movie.timing.period._impl
    assert Fraction(period.num, period.den) == Fraction(1, 30)
    width = movie.spacing._impl.pixel_width
    assert Fraction(width.num, width.den) == Fraction(5, 2)
    np.testing.assert_array_equal(movie.get_frame_data(1), np.arange(12, 24, dtype=np.float32).reshape(3, 4))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["{g}/movie_u16.isxd", "{t}/out.txt"], "cannot tell the direction"),
        (["{t}/missing.isxd", "{t}/out.zarr"], "does not exist"),
        (["{t}/missing.zarr", "{t}/out.isxd"], "does not exist"),
        (["{g}/movie_u16.isxd", "{t}/out.zarr", "--chunks", "0"], "--chunks"),
        (["{g}/movie_u16.isxd", "{t}/out.zarr", "--period", "0.05"], "Zarr -> .isxd only"),
        (["{g}/eventset.isxd", "{t}/out.zarr"], "not supported"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, message):
    argv = [a.format(g=GOLDEN_DIR, t=tmp_path) for a in argv]
    code, _, err = run(capsys, "convert", *argv, "--no-progress")
    assert code == 2
    assert err.startswith("isx-dask convert: error: ") and err.count("\n") == 1
    assert message in err
    assert not (tmp_path / "out.zarr").exists() and not (tmp_path / "out.isxd").exists()


def test_existing_target_needs_overwrite(tmp_path, capsys):
    target = tmp_path / "m.zarr"
    assert run(capsys, "convert", str(GOLDEN_DIR / "movie_u16.isxd"), str(target), "--no-progress")[0] == 0
    code, _, err = run(capsys, "convert", str(GOLDEN_DIR / "movie_u16.isxd"), str(target), "--no-progress")
    assert code == 2 and "--overwrite" in err
    assert run(capsys, "convert", str(GOLDEN_DIR / "movie_f32.isxd"), str(target), "--overwrite", "--no-progress")[0] == 0
    assert zarr.open_group(str(target), mode="r")["frames"].dtype == np.float32


def test_bad_option_values_are_usage_errors(tmp_path, capsys):
    for argv in (["--compressor", "brotli"], ["--clevel", "12"], ["--scheduler", "gpu"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(["convert", str(GOLDEN_DIR / "movie_u16.isxd"), str(tmp_path / "o.zarr"), *argv])
        assert exc.value.code == 2
        assert "isx-dask convert: error:" in capsys.readouterr().err


def test_unexpected_failure_exits_1(tmp_path, capsys, monkeypatch):
    import isx_dask

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(isx_dask, "isxd_to_zarr", boom)
    code, _, err = run(capsys, "convert", str(GOLDEN_DIR / "movie_u16.isxd"), str(tmp_path / "o.zarr"))
    assert code == 1 and "unexpected error: RuntimeError: disk on fire" in err


def test_distributed_scheduler_address(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        code, _, _ = run(capsys, "convert", str(GOLDEN_DIR / "movie_f32.isxd"), str(tmp_path / "d.zarr"),
                         "--scheduler", cluster.scheduler_address)
    assert code == 0
    golden = np.fromfile(GOLDEN_DIR / "movie_f32.isxd", dtype="<f4", count=int(np.prod(zarr.open_group(str(tmp_path / "d.zarr"), mode="r")["frames"].shape)))
    frames = zarr.open_group(str(tmp_path / "d.zarr"), mode="r")["frames"][...]
    np.testing.assert_array_equal(frames.reshape(-1), golden)  # movie_f32 has no invalid frames


def test_info_and_demo_still_work(tmp_path, capsys):
    code, out, _ = run(capsys, "info", str(GOLDEN_DIR / "movie_u16_dropped.isxd"))
    assert code == 0 and "dropped [3, 9]" in out
    code, out, _ = run(capsys, "demo", "--frames", "20", "--rows", "16", "--cols", "20", "--cells", "2", "--output-dir", str(tmp_path))
    assert code == 0 and "Frames identical to the source: True" in out


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


def test_period_override_keeps_the_dropped_frames(isx, tmp_path, capsys):
    assert run(capsys, "convert", str(GOLDEN_DIR / "movie_u16_dropped.isxd"), str(tmp_path / "m.zarr"), "--no-progress")[0] == 0
    code, _, err = run(capsys, "convert", str(tmp_path / "m.zarr"), str(tmp_path / "p.isxd"), "--period", "0.1", "--no-progress")
    assert code == 0, err
    movie = isx.Movie.read(str(tmp_path / "p.isxd"))
    assert movie.timing.period.to_msecs() == 100 and list(movie.timing.dropped) == [3, 9]
    assert split_file(tmp_path / "p.isxd")[0] == split_file(GOLDEN_DIR / "movie_u16_dropped.isxd")[0]
