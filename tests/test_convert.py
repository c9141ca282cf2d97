"""Zarr <-> .isxd: plain Zarr, OME-Zarr and round trips, read back with the official isx package.

Runs under zarr-python 3 (Zarr formats 2 and 3) and zarr-python 2.18 (what pip installs on
Python 3.10: format 2 only). Source stores are made with the installed zarr's own API
(:func:`new_array`, :func:`new_group`, :func:`add_array`), never with the code under test;
tests that need Zarr format 3 are skipped under zarr-python 2 with the reason shown.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import dask
import numpy as np
import pytest
import zarr
from conftest import GOLDEN_DIR, split_file

import isx_dask as xd
import isx_dask._zarr as zcompat
from isx_dask.convert import make_compressor

#: The installed zarr-python writes Zarr format 3 (zarr-python >= 3, Python >= 3.11).
ZARR3 = int(zarr.__version__.split(".")[0]) >= 3
#: Newest Zarr format and OME-NGFF version the installed zarr-python writes.
NEWEST_FORMAT = 3 if ZARR3 else 2
NEWEST_OME = "0.5" if ZARR3 else "0.4"
needs_zarr3 = pytest.mark.skipif(
    not ZARR3, reason=f"Zarr format 3 needs zarr-python >= 3 (Python >= 3.11); installed zarr is {zarr.__version__}")
#: Zarr formats to test: 3 is skipped, visibly, under zarr-python 2.
FORMATS = [2, pytest.param(3, marks=needs_zarr3)]


def new_array(path: str, data: np.ndarray, *, chunks: tuple[int, ...] | None = None, zarr_format: int | None = None):
    """A Zarr array holding ``data``, made with the installed zarr's own API (format: the newest it writes)."""
    fmt = zarr_format or NEWEST_FORMAT
    if ZARR3:
        return zarr.create_array(path, data=data, chunks=chunks or "auto", zarr_format=fmt)
    assert fmt == 2, "zarr-python 2 writes Zarr format 2 only"
    return zarr.array(data, store=path, chunks=chunks or True)


def new_group(path: str, zarr_format: int | None = None) -> zarr.Group:
    """A new Zarr group, made with the installed zarr's own API."""
    fmt = zarr_format or NEWEST_FORMAT
    if ZARR3:
        return zarr.open_group(path, mode="w", zarr_format=fmt)
    assert fmt == 2, "zarr-python 2 writes Zarr format 2 only"
    return zarr.open_group(path, mode="w")


def add_array(group: zarr.Group, name: str, data: np.ndarray, chunks: tuple[int, ...] | None = None):
    """An array ``name`` holding ``data`` in ``group``."""
    if ZARR3:
        return group.create_array(name, data=data, chunks=chunks or "auto")
    return group.array(name, data, chunks=chunks or True)


def frames_meta(store: Path) -> dict:
    """The JSON metadata of the ``frames`` array: ``zarr.json`` (format 3) or ``.zarray`` (format 2)."""
    v3 = store / "frames" / "zarr.json"
    return json.loads((v3 if v3.exists() else store / "frames" / ".zarray").read_text())


def official_frames(isx, path: Path) -> tuple[np.ndarray, object]:
    movie = isx.Movie.read(str(path))
    frames = np.stack([movie.get_frame_data(i) for i in range(movie.timing.num_samples)])
    return frames, movie


def ome_group(path: Path, data: np.ndarray, axes: list[dict], scale: list[float], *, version: str,
              translation: list[float] | None = None) -> zarr.Group:
    """An OME-Zarr image made by hand, as the NGFF 0.4 (Zarr v2) or 0.5 (Zarr v3) specification writes it."""
    group = new_group(str(path), 2 if version == "0.4" else 3)
    add_array(group, "0", data, chunks=(2, *data.shape[1:]))
    transforms = [{"type": "scale", "scale": scale}]
    if translation is not None:
        transforms.append({"type": "translation", "translation": translation})
    ms = [{"axes": axes, "datasets": [{"path": "0", "coordinateTransformations": transforms}]}]
    if version == "0.4":
        ms[0]["version"] = "0.4"
        group.attrs["multiscales"] = ms
    else:
        group.attrs["ome"] = {"version": "0.5", "multiscales": ms}
    return group


AXES_TYX = [
    {"name": "t", "type": "time", "unit": "millisecond"},
    {"name": "y", "type": "space", "unit": "nanometer"},
    {"name": "x", "type": "space", "unit": "nanometer"},
]


# -- Zarr -> isxd --------------------------------------------------------------------------------


@pytest.mark.parametrize("zarr_format", FORMATS)
@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_plain_zarr_array_to_isxd(isx, tmp_path, zarr_format, dtype):
    data = np.random.default_rng(1).integers(0, 4000, (7, 5, 6)).astype(dtype)
    source = tmp_path / "plain.zarr"
    new_array(str(source), data, chunks=(3, 5, 6), zarr_format=zarr_format)
    out = tmp_path / "plain.isxd"
    with pytest.warns(UserWarning, match="default"):  # nothing gives timing or spacing: the writer says so
        xd.zarr_to_isxd(str(source), out)
    frames, movie = official_frames(isx, out)
    np.testing.assert_array_equal(frames, data)
    assert movie.data_type == dtype
    assert movie.timing.period.to_msecs() == 50  # default timing
    assert tuple(movie.spacing.num_pixels) == (5, 6)


@pytest.mark.parametrize("version", ["0.4", pytest.param("0.5", marks=needs_zarr3)])
def test_ome_zarr_to_isxd_takes_scale_units_and_translation(isx, tmp_path, version):
    data = np.arange(6 * 4 * 5, dtype=np.uint16).reshape(6, 4, 5)
    ome_group(tmp_path / "img.ome.zarr", data, AXES_TYX, [50.0, 2500.0, 1500.0], version=version,
              translation=[0.0, 1000.0, -500.0])
    out = tmp_path / "img.isxd"
    xd.zarr_to_isxd(tmp_path / "img.ome.zarr", out)
    frames, movie = official_frames(isx, out)
    np.testing.assert_array_equal(frames, data)
    impl = movie.spacing._impl
    assert Fraction(impl.pixel_height.num, impl.pixel_height.den) == Fraction(5, 2)  # 2500 nm
    assert Fraction(impl.pixel_width.num, impl.pixel_width.den) == Fraction(3, 2)
    assert Fraction(impl.top.num, impl.top.den) == 1 and Fraction(impl.left.num, impl.left.den) == Fraction(-1, 2)
    period = movie.timing.period._impl
    assert Fraction(period.num, period.den) == Fraction(1, 20)  # 50 ms


def test_ome_zarr_singleton_channel_and_z_are_squeezed(isx, tmp_path):
    data = np.arange(4 * 3 * 5, dtype=np.float32).reshape(4, 1, 1, 3, 5)
    axes = [{"name": "t", "type": "time", "unit": "second"}, {"name": "c", "type": "channel"},
            {"name": "z", "type": "space", "unit": "micrometer"},
            {"name": "y", "type": "space", "unit": "millimeter"}, {"name": "x", "type": "space", "unit": "millimeter"}]
    ome_group(tmp_path / "tczyx.zarr", data, axes, [0.1, 1.0, 1.0, 0.004, 0.004], version="0.4")
    out = tmp_path / "tczyx.isxd"
    xd.zarr_to_isxd(str(tmp_path / "tczyx.zarr"), out)
    frames, movie = official_frames(isx, out)
    np.testing.assert_array_equal(frames, data[:, 0, 0])
    assert movie.spacing._impl.pixel_width.num / movie.spacing._impl.pixel_width.den == 4.0
    assert movie.timing.period.to_msecs() == 100


def test_explicit_timing_and_spacing_override_attributes(isx, tmp_path):
    data = np.ones((6, 4, 5), np.uint16)
    ome_group(tmp_path / "o.zarr", data, AXES_TYX, [50.0, 2500.0, 1500.0], version=NEWEST_OME)
    timing = xd.Timing(num_samples=6, period=xd.Duration(1, 30), dropped=[2])
    spacing = xd.Spacing(num_pixels=(4, 5), pixel_size=(Fraction(7, 2), Fraction(7, 2)))
    out = tmp_path / "o.isxd"
    xd.zarr_to_isxd(str(tmp_path / "o.zarr"), out, timing=timing, spacing=spacing, extra_properties={"a": 1})
    _, footer = split_file(out)
    assert footer["timingInfo"]["period"] == {"num": 1, "den": 30}
    assert footer["timingInfo"]["dropped"] == [2]
    assert footer["spacingInfo"]["pixelSize"]["x"] == {"num": 7, "den": 2}
    assert footer["extraProperties"] == {"a": 1}
    assert isx.Movie.read(str(out)).timing.dropped == [2]


def test_zarr_object_and_fsspec_url(isx, tmp_path):
    data = np.random.default_rng(2).integers(0, 9, (3, 4, 4)).astype(np.uint8)
    array = new_array("memory://conv-test.zarr", data)
    xd.zarr_to_isxd(array, tmp_path / "obj.isxd")
    xd.zarr_to_isxd("memory://conv-test.zarr", tmp_path / "url.isxd", storage_options={})
    # uint8 movies read with the lazy reader (the official Python API reads them too)
    for name in ("obj.isxd", "url.isxd"):
        np.testing.assert_array_equal(xd.open_isxd(tmp_path / name).frames.compute(), data)
        np.testing.assert_array_equal(official_frames(isx, tmp_path / name)[0], data)


def test_dtype_argument_converts_unsupported_dtypes(isx, tmp_path):
    data = np.arange(2 * 3 * 4, dtype=np.int32).reshape(2, 3, 4)
    new_array(str(tmp_path / "i32.zarr"), data)
    xd.zarr_to_isxd(str(tmp_path / "i32.zarr"), tmp_path / "i32.isxd", dtype=np.float32, spacing=xd.Spacing(num_pixels=(3, 4)),
                    timing=xd.Timing(num_samples=2))
    np.testing.assert_array_equal(official_frames(isx, tmp_path / "i32.isxd")[0], data.astype(np.float32))


def test_dtype_changes_no_value_unless_casting_unsafe(isx, tmp_path):
    data = np.array([0, 1, 65535, 70000, 5, 6], dtype=np.int32).reshape(2, 1, 3)
    new_array(str(tmp_path / "big.zarr"), data, chunks=(1, 1, 3))
    meta = {"timing": xd.Timing(num_samples=2), "spacing": xd.Spacing(num_pixels=(1, 3))}
    with pytest.raises((ValueError, TypeError), match="casting"):
        xd.zarr_to_isxd(str(tmp_path / "big.zarr"), tmp_path / "x.isxd", dtype=np.uint16, **meta)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.zarr"]  # no file, no partial
    xd.zarr_to_isxd(str(tmp_path / "big.zarr"), tmp_path / "x.isxd", dtype=np.uint16, casting="unsafe", **meta)
    wrapped = np.array([0, 1, 65535, 70000 - 65536, 5, 6], dtype=np.uint16).reshape(2, 1, 3)  # the explicit opt-in
    np.testing.assert_array_equal(official_frames(isx, tmp_path / "x.isxd")[0], wrapped)
    small = np.array([0, 1, 2, 3, 65535, 9], dtype=np.int64).reshape(2, 1, 3)  # every value fits: no opt-in needed
    new_array(str(tmp_path / "small.zarr"), small)
    xd.zarr_to_isxd(str(tmp_path / "small.zarr"), tmp_path / "s.isxd", dtype=np.uint16, **meta)
    np.testing.assert_array_equal(official_frames(isx, tmp_path / "s.isxd")[0], small.astype(np.uint16))


@pytest.mark.parametrize("dtype", ["<U3", "O"])
def test_string_and_object_arrays_are_refused_before_any_file(tmp_path, dtype):
    group = new_group(str(tmp_path / "s.zarr"), 2)
    if ZARR3:
        group.create_array("frames", shape=(2, 3, 4), dtype=np.dtype("<U3") if dtype == "<U3" else str,
                           fill_value="" if dtype == "O" else None)
    elif dtype == "<U3":
        group.create_dataset("frames", shape=(2, 3, 4), dtype="<U3")
    else:
        from numcodecs import VLenUTF8

        group.create_dataset("frames", shape=(2, 3, 4), dtype=object, object_codec=VLenUTF8())
    with pytest.raises(TypeError, match="'frames' has dtype"):
        xd.zarr_to_isxd(str(tmp_path / "s.zarr"), tmp_path / "x.isxd", dtype=np.float32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.zarr"]


def test_period_and_pixel_size_replace_only_their_field(isx, tmp_path):
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16_dropped.isxd", tmp_path / "m.zarr")
    xd.zarr_to_isxd(str(tmp_path / "m.zarr"), tmp_path / "p.isxd", period=Fraction(1, 10), pixel_size=(2.5, Fraction(3, 4)))
    movie = isx.Movie.read(str(tmp_path / "p.isxd"))
    period = movie.timing.period._impl
    assert Fraction(period.num, period.den) == Fraction(1, 10)
    assert list(movie.timing.dropped) == [3, 9] and list(movie.timing.blank) == [12]
    impl = movie.spacing._impl
    assert Fraction(impl.pixel_height.num, impl.pixel_height.den) == Fraction(5, 2)
    assert Fraction(impl.pixel_width.num, impl.pixel_width.den) == Fraction(3, 4)
    assert split_file(tmp_path / "p.isxd")[0] == split_file(GOLDEN_DIR / "movie_u16_dropped.isxd")[0]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"period": Fraction(1, 10**30)}, ValueError, "period .*64-bit"),
        ({"period": 0}, ValueError, "period must be > 0"),
        ({"period": "soon"}, ValueError, "period must be"),
        ({"pixel_size": (1, 2, 3)}, ValueError, "pixel_size"),
        ({"pixel_size": 10**30}, ValueError, "pixel_size .*64-bit"),
        ({"period": 0.1, "timing": xd.Timing(num_samples=16)}, ValueError, "either timing= or period="),
        ({"compute_kwargs": {"scheduler": "bogus"}}, ValueError, r"compute_kwargs\['scheduler'\]"),
        ({"compute_kwargs": "threads"}, TypeError, "compute_kwargs"),
    ],
)
def test_bad_zarr_to_isxd_options_name_the_argument(tmp_path, kwargs, exc, match):
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16_dropped.isxd", tmp_path / "m.zarr")
    with pytest.raises(exc, match=match):
        xd.zarr_to_isxd(str(tmp_path / "m.zarr"), tmp_path / "x.isxd", **kwargs)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.zarr"]


@pytest.mark.parametrize(("axis", "scale", "match"), [
    (1, 1e300, "scale of axis 'y'.*64-bit"),
    (0, 1e300, "scale of axis 't'.*64-bit"),
    (2, float("nan"), "finite number"),
    (2, "wide", "finite number"),
])
def test_ome_scale_beyond_the_footer_is_refused(tmp_path, axis, scale, match):
    values = [50.0, 2500.0, 1500.0]
    values[axis] = scale
    ome_group(tmp_path / "o.zarr", np.zeros((2, 3, 4), np.uint16), AXES_TYX, values, version=NEWEST_OME)
    with pytest.raises(ValueError, match=match):
        xd.zarr_to_isxd(str(tmp_path / "o.zarr"), tmp_path / "x.isxd")
    assert not (tmp_path / "x.isxd").exists()


def test_a_target_that_is_inside_or_holds_the_source_is_refused(tmp_path, golden):
    source = golden("movie_u16.isxd")
    new_array(str(tmp_path / "s.zarr"), np.ones((2, 3, 4), np.uint16))
    (tmp_path / "d.zarr").mkdir()
    inner = tmp_path / "d.zarr" / "m.isxd"
    inner.write_bytes(source.read_bytes())
    (tmp_path / "link.zarr").symlink_to(tmp_path / "s.zarr")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    cases = [
        (lambda: xd.isxd_to_zarr(source, source, overwrite=True), "is the source"),
        (lambda: xd.isxd_to_zarr(inner, tmp_path / "d.zarr", overwrite=True), "contains the source"),
        (lambda: xd.zarr_to_isxd(str(tmp_path / "s.zarr"), tmp_path / "s.zarr" / "x.isxd"), "inside the source"),
        (lambda: xd.zarr_to_isxd(str(tmp_path / "link.zarr"), tmp_path / "s.zarr" / "x.isxd"), "inside the source"),
        (lambda: xd.zarr_to_isxd(zarr.open(str(tmp_path / "s.zarr"), mode="r"), tmp_path / "s.zarr" / "x.isxd"), "inside"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_bogus_scheduler_is_refused_before_the_zarr_group_exists(tmp_path):
    with pytest.raises(ValueError, match="scheduler"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "m.zarr", compute_kwargs={"scheduler": "bogus"})
    assert list(tmp_path.iterdir()) == []
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "m.zarr", compressor="lz4", clevel=2, zarr_format=2,
                    compute_kwargs={"scheduler": "synchronous"})
    meta = json.loads((tmp_path / "m.zarr" / "frames" / ".zarray").read_text())
    assert (meta["compressor"]["cname"], meta["compressor"]["clevel"]) == ("lz4", 2)
    with pytest.raises(ValueError, match="clevel"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "n.zarr", compressor=False, clevel=2)


def test_compute_false_returns_delayed(isx, tmp_path):
    data = np.full((4, 3, 3), 7, np.uint16)
    new_array(str(tmp_path / "d.zarr"), data)
    delayed = xd.zarr_to_isxd(str(tmp_path / "d.zarr"), tmp_path / "d.isxd", compute=False)
    assert not (tmp_path / "d.isxd").exists()
    dask.compute(delayed, scheduler="synchronous")
    np.testing.assert_array_equal(official_frames(isx, tmp_path / "d.isxd")[0], data)


# -- isxd -> Zarr -> isxd ----------------------------------------------------------------------


@pytest.mark.parametrize("zarr_format", FORMATS)
@pytest.mark.parametrize("name", ["movie_u16_dropped.isxd", "movie_f32.isxd", "image_u16.isxd"])
def test_movie_round_trip_is_byte_identical(isx, tmp_path, name, zarr_format):
    source = GOLDEN_DIR / name
    xd.isxd_to_zarr(source, tmp_path / "m.zarr", zarr_format=zarr_format, chunks=3)
    group = zarr.open_group(str(tmp_path / "m.zarr"), mode="r")
    golden_data, golden_footer = split_file(source)
    assert group.attrs["isxd"] == {k: v for k, v in golden_footer.items() if k != "producer"}
    official, movie = official_frames(isx, source)
    np.testing.assert_array_equal(group["frames"][...], official)  # zeros at dropped/cropped/blank
    assert group["frames"].chunks[0] == min(3, official.shape[0])
    xd.zarr_to_isxd(str(tmp_path / "m.zarr"), tmp_path / "back.isxd")
    data, footer = split_file(tmp_path / "back.isxd")
    assert data == golden_data
    assert {k: v for k, v in footer.items() if k != "producer"} == {k: v for k, v in golden_footer.items() if k != "producer"}
    np.testing.assert_array_equal(official_frames(isx, tmp_path / "back.isxd")[0], official)


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_movie_zarr_is_valid_ome_zarr(tmp_path, zarr_format):
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16_dropped.isxd", tmp_path / "m.zarr", zarr_format=zarr_format)
    attrs = zarr.open_group(str(tmp_path / "m.zarr"), mode="r").attrs.asdict()
    # NGFF 0.5 (Zarr format 3) nests multiscales under "ome"; NGFF 0.4 (format 2) keeps them at the top level
    ms = attrs["ome"]["multiscales"][0] if zarr_format == 3 else attrs["multiscales"][0]
    assert ms.get("version", attrs.get("ome", {}).get("version")) == ("0.5" if zarr_format == 3 else "0.4")
    assert [a["name"] for a in ms["axes"]] == ["t", "y", "x"]
    assert ms["datasets"][0]["path"] == "frames"
    # Without the isxd attributes, the OME metadata alone gives back the period and pixel size.
    group = zarr.open_group(str(tmp_path / "m.zarr"), mode="r+")
    del group.attrs["isxd"]
    xd.zarr_to_isxd(str(tmp_path / "m.zarr"), tmp_path / "ome.isxd")
    golden = xd.open_isxd(GOLDEN_DIR / "movie_u16_dropped.isxd")
    ours = xd.open_isxd(tmp_path / "ome.isxd")
    assert ours.timing.period == golden.timing.period
    assert ours.spacing.pixel_size == golden.spacing.pixel_size


@needs_zarr3
def test_default_compressor_is_blosc_zstd_bitshuffle(tmp_path):
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "v3.zarr")
    meta = json.loads((tmp_path / "v3.zarr" / "frames" / "zarr.json").read_text())
    blosc = [c for c in meta["codecs"] if c["name"] == "blosc"][0]["configuration"]
    assert (blosc["cname"], blosc["shuffle"]) == ("zstd", "bitshuffle")
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "v2.zarr", zarr_format=2, compressor=make_compressor("lz4", 3, zarr_format=2))
    meta2 = json.loads((tmp_path / "v2.zarr" / "frames" / ".zarray").read_text())
    assert meta2["compressor"]["cname"] == "lz4" and meta2["compressor"]["clevel"] == 3
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "none.zarr", compressor="none")
    meta3 = json.loads((tmp_path / "none.zarr" / "frames" / "zarr.json").read_text())
    assert [c["name"] for c in meta3["codecs"]] == ["bytes"]


@pytest.mark.parametrize("name", ["cellset.isxd", "cellset_dropped.isxd", "cellset_empty.isxd"])
def test_cell_set_round_trip_is_byte_identical(isx, tmp_path, name):
    source = GOLDEN_DIR / name
    xd.isxd_to_zarr(source, tmp_path / "c.zarr", chunks=2)
    group = zarr.open_group(str(tmp_path / "c.zarr"), mode="r")
    official = isx.CellSet.read(str(source))
    for k in range(official.num_cells):
        np.testing.assert_array_equal(group["footprints"][k], official.get_cell_image_data(k))
        np.testing.assert_array_equal(group["traces"][k], official.get_cell_trace_data(k))
    xd.zarr_to_isxd(str(tmp_path / "c.zarr"), tmp_path / "back.isxd")
    data, footer = split_file(tmp_path / "back.isxd")
    golden_data, golden_footer = split_file(source)
    assert data == golden_data
    assert {k: v for k, v in footer.items() if k != "producer"} == {k: v for k, v in golden_footer.items() if k != "producer"}
    back = isx.CellSet.read(str(tmp_path / "back.isxd"))
    assert [back.get_cell_name(k) for k in range(back.num_cells)] == [official.get_cell_name(k) for k in range(official.num_cells)]
    assert [back.get_cell_status(k) for k in range(back.num_cells)] == [official.get_cell_status(k) for k in range(official.num_cells)]


def test_overwrite_replaces_a_zarr_target(tmp_path):
    target = tmp_path / "t.zarr"
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", target)
    with pytest.raises(FileExistsError, match="overwrite"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_f32.isxd", target)
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_f32.isxd", target, overwrite=True)
    assert zarr.open_group(str(target), mode="r")["frames"].dtype == np.float32
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.zarr"]


# -- bad input: clear errors, nothing written -----------------------------------------------------


def assert_nothing_written(directory: Path, before: set[str]) -> None:
    assert {p.name for p in directory.iterdir()} == before


def test_wrong_rank_is_refused(tmp_path):
    new_array(str(tmp_path / "r4.zarr"), np.zeros((2, 2, 3, 4), np.uint16))
    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(ValueError, match=r"4 dimensions.*num_samples, rows, cols"):
        xd.zarr_to_isxd(str(tmp_path / "r4.zarr"), tmp_path / "x.isxd")
    assert_nothing_written(tmp_path, before)


def test_unsupported_dtype_names_the_dtype_argument(tmp_path):
    new_array(str(tmp_path / "f64.zarr"), np.zeros((2, 3, 4), np.float64))
    with pytest.raises(TypeError, match="dtype="):
        xd.zarr_to_isxd(str(tmp_path / "f64.zarr"), tmp_path / "x.isxd")
    assert not (tmp_path / "x.isxd").exists()


def test_ome_axes_that_cannot_map_name_the_axes(tmp_path):
    data = np.zeros((3, 2, 4, 5), np.uint16)
    axes = [{"name": "t", "type": "time"}, {"name": "c", "type": "channel"},
            {"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    ome_group(tmp_path / "c2.zarr", data, axes, [1.0, 1.0, 1.0, 1.0], version="0.4")
    with pytest.raises(ValueError, match=r"axes \(t, c, y, x\).*'c' has 2.*timing="):
        xd.zarr_to_isxd(str(tmp_path / "c2.zarr"), tmp_path / "x.isxd")
    axes_zyx = [{"name": "z", "type": "space"}, {"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
    ome_group(tmp_path / "zyx.zarr", data[:, 0], axes_zyx, [1.0, 1.0, 1.0], version=NEWEST_OME)
    with pytest.raises(ValueError, match=r"axes \(z, y, x\)"):
        xd.zarr_to_isxd(str(tmp_path / "zyx.zarr"), tmp_path / "x.isxd")
    assert not (tmp_path / "x.isxd").exists()


def test_ome_unknown_unit_is_refused(tmp_path):
    axes = [dict(a) for a in AXES_TYX]
    axes[0]["unit"] = "fortnight"
    ome_group(tmp_path / "u.zarr", np.zeros((2, 3, 3), np.uint16), axes, [1.0, 1.0, 1.0], version="0.4")
    with pytest.raises(ValueError, match="unit 'fortnight'.*timing="):
        xd.zarr_to_isxd(str(tmp_path / "u.zarr"), tmp_path / "x.isxd")


def test_contradictory_attributes_name_the_attribute(tmp_path):
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "m.zarr")
    group = zarr.open_group(str(tmp_path / "m.zarr"), mode="r+")
    footer = group.attrs["isxd"]
    footer["timingInfo"]["numTimes"] += 1
    group.attrs["isxd"] = footer
    with pytest.raises(ValueError, match=r"isxd\.timingInfo\.numTimes.*timing="):
        xd.zarr_to_isxd(str(tmp_path / "m.zarr"), tmp_path / "x.isxd")
    footer["timingInfo"]["numTimes"] -= 1
    del footer["spacingInfo"]["pixelSize"]
    group.attrs["isxd"] = footer
    with pytest.raises(ValueError, match=r"isxd\.spacingInfo.*spacing="):
        xd.zarr_to_isxd(str(tmp_path / "m.zarr"), tmp_path / "x.isxd")
    # Explicit metadata gets past the broken attribute.
    xd.zarr_to_isxd(str(tmp_path / "m.zarr"), tmp_path / "x.isxd", spacing=xd.Spacing(num_pixels=(5, 7)))


def test_existing_isxd_target_is_refused_before_writing(tmp_path):
    new_array(str(tmp_path / "s.zarr"), np.zeros((2, 3, 4), np.uint16))
    (tmp_path / "x.isxd").write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite"):
        xd.zarr_to_isxd(str(tmp_path / "s.zarr"), tmp_path / "x.isxd")
    assert (tmp_path / "x.isxd").read_bytes() == b"keep"


def test_missing_source_and_unreachable_url(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.zarr"):
        xd.zarr_to_isxd(str(tmp_path / "missing.zarr"), tmp_path / "x.isxd")
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        xd.zarr_to_isxd("memory://nothing-here.zarr", tmp_path / "x.isxd")
    with pytest.raises(FileNotFoundError):
        xd.isxd_to_zarr(tmp_path / "missing.isxd", tmp_path / "x.zarr")
    with pytest.raises(FileNotFoundError, match="directory"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "no" / "x.zarr")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_bad_chunks_compressor_and_format(tmp_path):
    with pytest.raises(ValueError, match="chunks"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "x.zarr", chunks=(0, 1, 1))
    with pytest.raises(ValueError, match="compressor"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "x.zarr", compressor="brotli")
    with pytest.raises(ValueError, match="zarr_format"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "x.zarr", zarr_format=4)
    with pytest.raises(ValueError, match="clevel"):
        make_compressor("zstd", 12)
    assert not (tmp_path / "x.zarr").exists()


def test_unsupported_type_is_not_implemented(tmp_path):
    with pytest.raises(NotImplementedError, match="movies, images and cell sets"):
        xd.isxd_to_zarr(GOLDEN_DIR / "eventset.isxd", tmp_path / "e.zarr")
    with pytest.raises(NotImplementedError, match="frame headers"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16_frameheaders.isxd", tmp_path / "h.zarr")
    assert not (tmp_path / "e.zarr").exists()


@pytest.mark.parametrize("version", ["0.4", pytest.param("0.5", marks=needs_zarr3)])
def test_ome_zarr_yx_image_becomes_an_image(isx, tmp_path, version):
    data = np.arange(4 * 5, dtype=np.uint16).reshape(4, 5)
    axes = [{"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space", "unit": "micrometer"}]
    ome_group(tmp_path / "yx.zarr", data, axes, [2.0, 2.0], version=version)
    xd.zarr_to_isxd(str(tmp_path / "yx.zarr"), tmp_path / "yx.isxd")
    image = isx.Image.read(str(tmp_path / "yx.isxd"))
    np.testing.assert_array_equal(image.get_data(), data)
    assert split_file(tmp_path / "yx.isxd")[1]["type"] == 4


def test_isxd_to_zarr_compute_false_appears_only_when_computed(tmp_path):
    delayed = xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16_dropped.isxd", tmp_path / "m.zarr", compute=False)
    assert not (tmp_path / "m.zarr").exists()
    dask.compute(delayed, scheduler="synchronous")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.zarr"]
    assert zarr.open_group(str(tmp_path / "m.zarr"), mode="r")["frames"].shape == (16, 5, 7)


def test_failed_conversion_leaves_existing_target_and_no_partial(tmp_path, monkeypatch):
    import isx_dask.readers.movie as movie_reader

    target = tmp_path / "t.zarr"
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", target)
    before = zarr.open_group(str(target), mode="r")["frames"][...]
    calls = {"n": 0}
    real = movie_reader.read_array

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("simulated read failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(movie_reader, "read_array", failing)
    with pytest.raises(OSError, match="simulated"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_f32.isxd", target, overwrite=True, chunks=1,
                        compute_kwargs={"scheduler": "synchronous"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.zarr"]
    np.testing.assert_array_equal(zarr.open_group(str(target), mode="r")["frames"][...], before)


@needs_zarr3
def test_numcodecs_compressors_work_for_zarr_v3(tmp_path):
    from numcodecs import Blosc, Zstd

    for k, codec in enumerate([Blosc(cname="lz4", clevel=2, shuffle=Blosc.SHUFFLE), Zstd(level=3)]):
        target = tmp_path / f"n{k}.zarr"
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", target, compressor=codec)
        names = [c["name"] for c in json.loads((target / "frames" / "zarr.json").read_text())["codecs"]]
        assert names[-1] == ("blosc" if k == 0 else "zstd")
        golden = xd.open_isxd(GOLDEN_DIR / "movie_u16.isxd").frames.compute()
        np.testing.assert_array_equal(zarr.open_group(str(target), mode="r")["frames"][...], golden)


def test_failed_move_into_place_puts_the_old_target_back(tmp_path, monkeypatch):
    import isx_dask.convert as convert

    target = tmp_path / "t.zarr"
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", target)
    before = zarr.open_group(str(target), mode="r")["frames"][...]
    real_rename = os.rename

    def rename(src, dst):
        if str(src).endswith(".partial"):
            raise OSError("simulated failure of the final rename")
        real_rename(src, dst)

    monkeypatch.setattr(convert.os, "rename", rename)
    with pytest.raises(OSError, match="final rename"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_f32.isxd", target, overwrite=True)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.zarr"]
    np.testing.assert_array_equal(zarr.open_group(str(target), mode="r")["frames"][...], before)


# -- zarr-python 2 (Python 3.10) and 3 ------------------------------------------------------------


def test_default_format_is_the_newest_the_installed_zarr_writes(isx, tmp_path):
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16_dropped.isxd", tmp_path / "m.zarr")
    if ZARR3:
        assert json.loads((tmp_path / "m.zarr" / "zarr.json").read_text())["zarr_format"] == 3
    else:
        assert json.loads((tmp_path / "m.zarr" / ".zgroup").read_text())["zarr_format"] == 2
        assert not (tmp_path / "m.zarr" / "zarr.json").exists()
    official, _ = official_frames(isx, GOLDEN_DIR / "movie_u16_dropped.isxd")
    np.testing.assert_array_equal(zarr.open_group(str(tmp_path / "m.zarr"), mode="r")["frames"][...], official)


def test_format_2_default_compressor_is_blosc_zstd_bitshuffle(tmp_path):
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "v2.zarr", zarr_format=2)
    meta = frames_meta(tmp_path / "v2.zarr")
    assert meta["zarr_format"] == 2
    # numcodecs Blosc: shuffle 2 is BITSHUFFLE
    assert (meta["compressor"]["id"], meta["compressor"]["cname"], meta["compressor"]["shuffle"]) == ("blosc", "zstd", 2)
    assert meta["fill_value"] == 0 and meta["dtype"] == "<u2"
    xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "none.zarr", zarr_format=2, compressor="none")
    assert frames_meta(tmp_path / "none.zarr")["compressor"] is None


def test_zarr_format_3_under_zarr_python_2_is_refused_before_writing(tmp_path, monkeypatch):
    if ZARR3:  # pretend to be zarr-python 2, as pip installs it on Python 3.10
        monkeypatch.setattr(zcompat, "zarr_major", lambda: 2)
    with pytest.raises(ValueError, match=r"zarr_format=3 needs zarr-python >= 3 .*Python >= 3\.11.*zarr_format=2"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "m.zarr", zarr_format=3)
    with pytest.raises(ValueError, match="zarr_format=3 needs"):
        make_compressor("zstd", zarr_format=3)
    assert list(tmp_path.iterdir()) == []
    from numcodecs import Blosc

    assert isinstance(make_compressor("zstd"), Blosc)  # the default format is then 2, whose codecs are numcodecs'


def test_format_2_compressor_must_be_a_numcodecs_codec(tmp_path):
    with pytest.raises(TypeError, match="compressor for zarr_format=2 must be"):
        xd.isxd_to_zarr(GOLDEN_DIR / "movie_u16.isxd", tmp_path / "m.zarr", zarr_format=2, compressor=42)
    assert list(tmp_path.iterdir()) == []


def test_zarr_object_of_a_local_store_is_known_as_the_source(tmp_path):
    """The local directory of a zarr object is found under both zarr-python versions (the source/target check needs it)."""
    array = new_array(str(tmp_path / "s.zarr"), np.ones((2, 3, 4), np.uint16))
    with pytest.raises(ValueError, match="inside the source"):
        xd.zarr_to_isxd(array, tmp_path / "s.zarr" / "x.isxd")
    group = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    add_array(group, "frames", np.ones((2, 3, 4), np.uint16))
    with pytest.raises(ValueError, match="inside the source"):
        xd.zarr_to_isxd(group["frames"], tmp_path / "g.zarr" / "frames" / "x.isxd")
    assert not (tmp_path / "s.zarr" / "x.isxd").exists()


@pytest.mark.skipif(ZARR3, reason="zarr-python 3 reads Zarr format 3 (tested above); this is the zarr-python 2 message")
def test_zarr_format_3_source_under_zarr_python_2_names_the_need(tmp_path):
    # A Zarr format 3 array written by hand, as the Zarr v3 specification lays it out (zarr-python 2 cannot make one)
    (tmp_path / "v3.zarr").mkdir()
    (tmp_path / "v3.zarr" / "zarr.json").write_text(json.dumps({
        "zarr_format": 3, "node_type": "array", "shape": [2, 3, 4], "data_type": "uint16",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2, 3, 4]}},
        "chunk_key_encoding": {"name": "default"}, "fill_value": 0, "codecs": [{"name": "bytes"}]}))
    with pytest.raises(ValueError, match=r"Zarr format 3 .*zarr-python >= 3 .*Python >= 3\.11"):
        xd.zarr_to_isxd(str(tmp_path / "v3.zarr"), tmp_path / "x.isxd")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v3.zarr"]


# -- check_source_target: every caller's message reads naturally -------------------------------------
@pytest.mark.parametrize(
    ("source_arg", "target_arg", "noun"),
    [
        ("source", "path", "the source"),  # zarr_to_isxd
        ("path", "target", "the source path"),  # isxd_to_zarr
        ("SRC", "DST", "the source SRC"),  # the command line
        ("SRC", "--events", "the source SRC"),
        ("sources[2]", "path", "sources[2]"),  # series_to_isxd
    ],
)
def test_check_source_target_messages_read_naturally(tmp_path, source_arg, target_arg, noun):
    from isx_dask.convert import check_source_target

    folder = tmp_path / "rec.zarr"
    folder.mkdir()
    inner, outer = folder / "x.isxd", tmp_path
    cases = [
        (folder, folder, f"{target_arg} {str(folder)!r} is {noun} {str(folder)!r} itself; choose another {target_arg}"),
        (folder, inner, f"{target_arg} {str(inner)!r} lies inside {noun} {str(folder)!r}; choose a {target_arg} outside it"),
        (folder, outer, f"{target_arg} {str(outer)!r} contains {noun} {str(folder)!r}, which replacing it would delete; choose another {target_arg}"),
        ("s3://bucket/a.zarr/", "s3://bucket/a.zarr", f"{target_arg} 's3://bucket/a.zarr' is {noun} 's3://bucket/a.zarr/' itself; choose another {target_arg}"),
    ]
    for source, target, expected in cases:
        with pytest.raises(ValueError) as info:
            check_source_target(source, target, source_arg=source_arg, target_arg=target_arg)
        assert str(info.value) == expected
        assert "source source" not in str(info.value) and "source sources" not in str(info.value)


def test_zarr_to_isxd_names_the_source_once(tmp_path):
    source = tmp_path / "s.zarr"
    zarr.open_array(str(source), mode="w", shape=(2, 3, 4), dtype=np.uint16)[...] = 1
    with pytest.raises(ValueError) as info:
        xd.zarr_to_isxd(str(source), source / "x.isxd", period=0.05, pixel_size=2)
    assert str(info.value) == f"path {str(source / 'x.isxd')!r} lies inside the source {str(source)!r}; choose a path outside it"
