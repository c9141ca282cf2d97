"""Shared fixtures: the official ``isx`` oracle, golden files and their manifest inputs.

The official package is the oracle every writer test reads back with. Where it
cannot be installed (it has wheels for Linux x86_64 on Python < 3.14 only) the
oracle tests skip with that reason; under CI (``CI`` set) a missing oracle
stops the run instead.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import isx_dask as xd

try:
    import isx as _isx

    _ISX_ERROR = None
except Exception as err:  # noqa: BLE001 - any import failure means no oracle
    _isx = None
    _ISX_ERROR = f"{type(err).__name__}: {err}"

GOLDEN_DIR = Path(__file__).parent / "data" / "golden"
MANIFEST = json.loads((GOLDEN_DIR / "manifest.json").read_text())["files"]


def pytest_configure(config: pytest.Config) -> None:
    if _isx is None and os.environ.get("CI"):
        raise pytest.UsageError(
            f"the official isx package (the test oracle) cannot be imported under CI: {_ISX_ERROR}. "
            "Install the test extras on Linux x86_64 with Python < 3.14."
        )


@pytest.fixture
def isx() -> Any:
    """The official ``isx`` package; skips (visibly) where it is not installed."""
    if _isx is None:
        pytest.skip(f"official isx package not available: {_ISX_ERROR}")
    return _isx


@pytest.fixture
def golden(tmp_path: Path):
    """``golden(name)`` copies a golden file into ``tmp_path`` and returns its path."""

    def copy(name: str) -> Path:
        dst = tmp_path / f"golden_{name}"
        shutil.copyfile(GOLDEN_DIR / name, dst)
        return dst

    return copy


def manifest_entry(name: str) -> dict[str, Any]:
    """The manifest entry of golden file ``name``."""
    return MANIFEST[name]


def manifest_array(spec: dict[str, Any]) -> np.ndarray:
    """An exact array from a manifest ``{dtype, shape, values}`` description."""
    return np.array(spec["values"], dtype=spec["dtype"]).reshape(spec["shape"])


def manifest_timing(spec: dict[str, Any]) -> xd.Timing:
    """The isx_dask Timing for a manifest ``timing`` description."""
    return xd.Timing(
        num_samples=spec["num_samples"],
        period=xd.Duration(spec["period"]["num"], spec["period"]["den"]),
        start=xd.Time(xd.Duration(spec["start_secs_since_epoch"]["num"], spec["start_secs_since_epoch"]["den"]), spec["utc_offset"]),
        dropped=spec["dropped"],
        cropped=[tuple(c) for c in spec["cropped"]],
        blank=spec["blank"],
    )


def split_file(path: Path) -> tuple[bytes, dict[str, Any]]:
    """Data section and parsed footer of an ``.isxd`` file, computed independently of isx_dask."""
    raw = Path(path).read_bytes()
    json_size = int.from_bytes(raw[-8:], "little")
    data_size = len(raw) - json_size - 9
    assert raw[data_size + json_size] == 0
    return raw[:data_size], json.loads(raw[data_size : data_size + json_size])


def assert_same_footer_as_golden(ours: dict[str, Any], golden: dict[str, Any]) -> None:
    """Footers equal apart from ``producer`` (which names the writer)."""
    a = {k: v for k, v in ours.items() if k != "producer"}
    b = {k: v for k, v in golden.items() if k != "producer"}
    assert a == b


def assert_timing_equal(ours: xd.Timing, official: Any) -> None:
    """Compare an isx_dask Timing with an official isx.Timing field by field."""
    assert official.num_samples == ours.num_samples
    assert official.period._impl.num * ours.period.den == ours.period.num * official.period._impl.den
    start = official.start._impl
    assert start.secs_since_epoch.num * ours.start.secs_since_epoch.den == ours.start.secs_since_epoch.num * start.secs_since_epoch.den
    assert start.utc_offset == ours.start.utc_offset
    assert list(official.dropped) == list(ours.dropped)
    assert [tuple(c) for c in official.cropped] == list(ours.cropped)
    assert list(official.blank) == list(ours.blank)


def assert_spacing_equal(ours: xd.Spacing, official: Any) -> None:
    """Compare an isx_dask Spacing with an official isx.Spacing, including pixel size and top-left."""
    assert tuple(official.num_pixels) == ours.num_pixels
    impl = official._impl
    from fractions import Fraction

    assert Fraction(impl.pixel_width.num, impl.pixel_width.den) == ours.pixel_size[1]
    assert Fraction(impl.pixel_height.num, impl.pixel_height.den) == ours.pixel_size[0]
    assert Fraction(impl.left.num, impl.left.den) == ours.top_left[1]
    assert Fraction(impl.top.num, impl.top.den) == ours.top_left[0]


# -- shared helpers of the writer tests -------------------------------------------------------
SCHEDULERS = ["synchronous", "threads", "processes"]


@pytest.fixture(params=SCHEDULERS)
def compute_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """``compute_kwargs`` for each local dask scheduler (the distributed one is in test_distributed.py)."""
    return {"scheduler": request.param}


@pytest.fixture(params=["numpy", "dask"])
def as_input(request: pytest.FixtureRequest):
    """``as_input(array, chunks)``: the array as given (NumPy) or as a Dask array of ``chunks``."""

    def convert(array: np.ndarray, chunks: Any = None) -> Any:
        if request.param == "numpy":
            return array
        import dask.array as da

        return da.from_array(array, chunks=chunks or "auto")

    convert.kind = request.param  # type: ignore[attr-defined]
    return convert


def leftovers(directory: Path) -> list[str]:
    """Temporary files (``*.partial``) and their sidecars left in ``directory``, sorted."""
    return sorted(p.name for p in Path(directory).iterdir() if ".partial" in p.name)


def directory_state(directory: Path) -> dict[str, bytes]:
    """Every file in ``directory`` (hidden ones included) with its bytes: compare before and after a refused call."""
    return {p.name: p.read_bytes() for p in sorted(Path(directory).iterdir()) if p.is_file()}
