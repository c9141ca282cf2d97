"""Malformed files: every one is refused with an IsxdFormatError naming what is wrong, in bounded memory.

The files are official golden files (written by the official package) with one
thing broken: truncated, a size or count out of range or of the wrong JSON type,
nested or invalid JSON, an unknown type code. A few run in a subprocess whose
address space is capped (``RLIMIT_AS``) and whose peak RSS is measured, to show
that a crafted footer cannot make the reader allocate what the footer claims.
"""

from __future__ import annotations

import copy
import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from isx_dask.layout import IsxdFormatError
from isx_dask.readers import open_isxd

GOLDEN = Path(__file__).parent / "data" / "golden"
GOLDEN_FILES = ["movie_u16_dropped.isxd", "movie_u16_frameheaders.isxd", "cellset_dropped.isxd", "eventset.isxd", "vesselset_rbc_heatmaps.isxd"]


def split(name: str) -> tuple[bytes, dict[str, Any]]:
    """Data section and footer of a golden file, parsed independently of the package."""
    raw = (GOLDEN / name).read_bytes()
    (json_size,) = struct.unpack("<Q", raw[-8:])
    data_size = len(raw) - json_size - 9
    return raw[:data_size], json.loads(raw[data_size : data_size + json_size])


def build(data: bytes, footer: dict[str, Any] | bytes) -> bytes:
    text = footer if isinstance(footer, bytes) else json.dumps(footer).encode()
    return data + text + b"\x00" + struct.pack("<Q", len(text))


def refused(path: Path, match: str | None = None) -> IsxdFormatError:
    """Open ``path`` (and touch what a reader would read) and return the IsxdFormatError raised."""
    with pytest.raises(IsxdFormatError, match=match) as info:
        f = open_isxd(path)
        repr(f)
        f.timing  # noqa: B018
    assert isinstance(info.value, ValueError)
    return info.value


# -- truncations --------------------------------------------------------------------------
def _cuts(name: str) -> list[int]:
    size = (GOLDEN / name).stat().st_size
    data, _ = split(name)
    return sorted({0, 1, 7, 8, len(data), len(data) + 1, (len(data) + size) // 2, size - 9, size - 8, size - 1})


@pytest.mark.parametrize(("name", "keep"), [(n, k) for n in GOLDEN_FILES for k in _cuts(n)])
def test_truncated_file_is_refused(tmp_path, name, keep):
    p = tmp_path / "t.isxd"
    p.write_bytes((GOLDEN / name).read_bytes()[:keep])
    err = refused(p)
    assert str(p) in str(err)


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_data_section_shorter_than_the_footer_needs(tmp_path, name):
    data, footer = split(name)
    p = tmp_path / "short.isxd"
    p.write_bytes(build(data[:-1] if name.startswith("event") else data[: len(data) // 2], footer))
    refused(p)


def test_empty_and_garbage_files(tmp_path):
    cases = {
        "empty": b"",
        "zeros": bytes(64),
        "text": b"hello world, not an isxd file at all",
        "size_field_huge": b"{}" + b"\x00" + struct.pack("<Q", 2**63),
        "size_field_one_too_many": build(b"", {"type": 0})[:-8] + struct.pack("<Q", len(json.dumps({"type": 0})) + 1),
    }
    for key, raw in cases.items():
        p = tmp_path / f"{key}.isxd"
        p.write_bytes(raw)
        refused(p)


# -- footer fields: wrong types, out of range ---------------------------------------------
def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    keys = path.split(".")

    def apply(footer: dict[str, Any]) -> None:
        obj = footer
        for k in keys[:-1]:
            obj = obj[k]
        if value is _DELETE:
            del obj[keys[-1]]
        else:
            obj[keys[-1]] = value

    return apply


_DELETE = object()
BIG = 10**30
MOVIE = "movie_u16_dropped.isxd"
CELLS = "cellset_dropped.isxd"
EVENTS = "eventset.isxd"
VESSELS = "vesselset_rbc_heatmaps.isxd"

FIELD_CASES: list[tuple[str, str, Any, str]] = [
    # (golden file, key path, new value, text the message must contain)
    (MOVIE, "timingInfo.numTimes", "5", "numTimes"),
    (MOVIE, "timingInfo.numTimes", 5.9, "numTimes"),
    (MOVIE, "timingInfo.numTimes", True, "numTimes"),
    (MOVIE, "timingInfo.numTimes", None, "numTimes"),
    (MOVIE, "timingInfo.numTimes", -1, "numTimes"),
    (MOVIE, "timingInfo.numTimes", BIG, "numTimes"),
    (MOVIE, "timingInfo.numTimes", [16], "numTimes"),
    (MOVIE, "timingInfo.numTimes", _DELETE, "numTimes"),
    (MOVIE, "timingInfo.period", {"num": 1, "den": 0}, "period"),
    (MOVIE, "timingInfo.period", {"num": 0, "den": 1}, "period"),
    (MOVIE, "timingInfo.period", {"num": -1, "den": 20}, "period"),
    (MOVIE, "timingInfo.period", {"num": "1", "den": 20}, "period.num"),
    (MOVIE, "timingInfo.period", {"num": 2**63, "den": 1}, "period.num"),
    (MOVIE, "timingInfo.period", {"num": 1}, "period"),
    (MOVIE, "timingInfo.period", 0.05, "period"),
    (MOVIE, "timingInfo.start.utcOffset", 10**6, "utcOffset"),
    (MOVIE, "timingInfo.start.utcOffset", "0", "utcOffset"),
    (MOVIE, "timingInfo.start.secsSinceEpoch", {"num": BIG, "den": 1}, "secsSinceEpoch"),
    (MOVIE, "timingInfo.start", None, "start"),
    (MOVIE, "timingInfo.dropped", [-1], "dropped"),
    (MOVIE, "timingInfo.dropped", [16], "dropped"),
    (MOVIE, "timingInfo.dropped", ["3"], "dropped"),
    (MOVIE, "timingInfo.dropped", [3.5], "dropped"),
    (MOVIE, "timingInfo.dropped", "3", "dropped"),
    (MOVIE, "timingInfo.dropped", [BIG], "dropped"),
    (MOVIE, "timingInfo.blank", [True], "blank"),
    (MOVIE, "timingInfo.cropped", ["6 - 5"], "cropped"),
    (MOVIE, "timingInfo.cropped", ["five"], "cropped"),
    (MOVIE, "timingInfo.cropped", [5], "cropped"),
    (MOVIE, "timingInfo.cropped", ["0 - 1000000000"], "cropped"),
    (MOVIE, "timingInfo.cropped", [f"{BIG}"], "cropped"),
    (MOVIE, "timingInfo", [], "timingInfo"),
    (MOVIE, "spacingInfo.numPixels.x", -1, "numPixels.x"),
    (MOVIE, "spacingInfo.numPixels.x", "7", "numPixels.x"),
    (MOVIE, "spacingInfo.numPixels.y", 2**64, "numPixels.y"),
    (MOVIE, "spacingInfo.numPixels.x", 7.5, "numPixels.x"),
    (MOVIE, "spacingInfo.numPixels.y", 10**10, "bytes"),
    (MOVIE, "spacingInfo.pixelSize.x", {"num": 0, "den": 1}, "pixelSize"),
    (MOVIE, "spacingInfo.topLeft", None, "topLeft"),
    (MOVIE, "spacingInfo", _DELETE, "spacingInfo"),
    (MOVIE, "dataType", 7, "dataType"),
    (MOVIE, "dataType", "0", "dataType"),
    (MOVIE, "dataType", None, "dataType"),
    (MOVIE, "dataType", [0], "dataType"),
    (MOVIE, "dataType", True, "dataType"),
    (MOVIE, "hasFrameHeaderFooter", "yes", "hasFrameHeaderFooter"),
    (MOVIE, "hasFrameHeaderFooter", None, "hasFrameHeaderFooter"),
    (MOVIE, "fileVersion", "1", "fileVersion"),
    (MOVIE, "type", 42, "type"),
    (MOVIE, "type", 9, "type"),
    (MOVIE, "type", -1, "type"),
    (MOVIE, "type", "0", "type"),
    (MOVIE, "type", None, "type"),
    (MOVIE, "type", 1.5, "type"),
    (MOVIE, "type", 1, "cell set"),
    (MOVIE, "type", 5, "event set"),
    (CELLS, "CellNames", "C0", "CellNames"),
    (CELLS, "CellNames", [0, 1, 2], "CellNames"),
    (CELLS, "CellNames", ["a"], "cells"),
    (CELLS, "CellStatuses", [0, 1, 3], "CellStatuses"),
    (CELLS, "CellStatuses", [0, 1, "2"], "CellStatuses"),
    (CELLS, "CellStatuses", [0, 1, True], "CellStatuses"),
    (CELLS, "timingInfo.numTimes", BIG, "numTimes"),
    (CELLS, "timingInfo.numTimes", 10**9, "cells"),
    (CELLS, "spacingInfo.numPixels.x", 10**9, "cells"),
    (CELLS, "timingInfo.cropped", ["0 - 99"], "cropped"),
    (EVENTS, "global times", [], "global times"),
    (EVENTS, "global times.1.utcOffset", "0", "utcOffset"),
    (EVENTS, "global times.0.secsSinceEpoch", {"num": 1, "den": 0}, "secsSinceEpoch"),
    (EVENTS, "channel list", [1, 2, 3, 4, 5], "channel list"),
    (EVENTS, "channel list", None, "channel list"),
    (EVENTS, "signalSteps", [{"num": 1, "den": 0}] * 5, "signalSteps"),
    (EVENTS, "signalSteps", [], "signalSteps"),
    (EVENTS, "numSamples", [-1, 0, 0, 0, 0], "numSamples"),
    (EVENTS, "startOffsets", ["0", 0, 0, 0, 0], "startOffsets"),
    (EVENTS, "fileType", 2, "fileType"),
    (EVENTS, "fileVersion", "1", "fileVersion"),
    (EVENTS, "global times.1.secsSinceEpoch", {"num": 2**63 - 1, "den": 1}, "samples"),
    (VESSELS, "VesselStatuses", [[1], 0], "VesselStatuses"),
    (VESSELS, "VesselStatuses", [7, 0], "VesselStatuses"),
    (VESSELS, "VesselNames", [1, 2], "VesselNames"),
    (VESSELS, "VesselNames", ["v"] * 10**5, "vessels"),
    (VESSELS, "VesselCorrelationSizes", [["a", 1], [1, 1]], "VesselCorrelationSizes"),
    (VESSELS, "VesselCorrelationSizes", [[BIG, 1], [1, 1]], "VesselCorrelationSizes"),
    (VESSELS, "timingInfo.numTimes", 10**12, "vessels"),
    (VESSELS, "fileVersion", True, "fileVersion"),
]


@pytest.mark.parametrize(("name", "key", "value", "match"), FIELD_CASES, ids=[f"{n.split('.')[0]}-{k}-{v!r:.20}" for n, k, v, _ in FIELD_CASES])
def test_malformed_footer_field_is_refused(tmp_path, name, key, value, match):
    data, footer = split(name)
    footer = copy.deepcopy(footer)
    keys = key.split(".")
    if keys[0] == "global times":  # a list: index into it
        if len(keys) == 1:
            footer["global times"] = value
        else:
            obj = footer["global times"][int(keys[1])]
            for k in keys[2:-1]:
                obj = obj[k]
            obj[keys[-1]] = value
    else:
        _set(key, value)(footer)
    p = tmp_path / "bad.isxd"
    p.write_bytes(build(data, footer))
    err = refused(p)
    assert match.lower() in str(err).lower(), str(err)
    assert str(p) in str(err)


# -- the JSON text itself -------------------------------------------------------------------
JSON_CASES = {
    "nested_lists": b"[" * 100_000 + b"]" * 100_000,
    "nested_objects": b'{"type": 0, "x": ' + b'{"a": ' * 50_000 + b"0" + b"}" * 50_000 + b"}",
    "nan": b'{"type": 0, "dataType": NaN}',
    "infinity": b'{"type": 0, "timingInfo": {"numTimes": Infinity}}',
    "huge_integer": b'{"type": 0, "dataType": 1' + b"0" * 10_000 + b"}",
    "top_level_list": b"[0, 1]",
    "no_type": b'{"dataType": 0}',
    "not_utf8": b'{"type": 0, "name": "\xff\xfe"}',
    "truncated_json": b'{"type": 0, "timingInfo": {',
    "bom_only": b"\xef\xbb\xbf",
    "empty": b"",
    "starts_with_nul": b"\x00{}",
}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
def test_malformed_json_is_refused(tmp_path, case):
    p = tmp_path / "j.isxd"
    p.write_bytes(build(b"\x00" * 16, JSON_CASES[case]))
    refused(p)


def test_movie_with_frame_headers_must_be_uint16(tmp_path):
    data, footer = split("movie_u16_frameheaders.isxd")
    footer["dataType"] = 1
    p = tmp_path / "f.isxd"
    p.write_bytes(build(data, footer))
    refused(p, "uint16")


def test_event_packet_naming_a_missing_cell_is_refused_on_read(tmp_path):
    data, footer = split(EVENTS)
    raw = bytearray(data)
    raw[8:16] = struct.pack("<Q", 99)  # cell index of the first packet
    p = tmp_path / "e.isxd"
    p.write_bytes(build(bytes(raw), footer))
    f = open_isxd(p)
    with pytest.raises(IsxdFormatError, match="cell 99"):
        f.get_cell_data(0)


def test_valid_lists_are_normalised_as_timing_does(tmp_path):
    """The reader's range-based normalisation gives what Timing's own construction gives."""
    from isx_dask.metadata import Timing

    data, footer = split(MOVIE)
    footer["timingInfo"].update(dropped=[9, 3, 3, 6], cropped=["5 - 6", "12", "4-4"], blank=[12, 1, 1])
    p = tmp_path / "n.isxd"
    # 16 samples, invalid {1, 3, 4, 5, 6, 9, 12}: 9 stored frames
    p.write_bytes(build(data[: 9 * 70], footer))
    f = open_isxd(p)
    expected = Timing(num_samples=16, period=f.timing.period, start=f.timing.start, dropped=[9, 3, 3, 6], cropped=[(5, 6), (12, 12), (4, 4)], blank=[12, 1, 1])
    assert f.timing == expected
    assert (f.timing.dropped, f.timing.cropped, f.timing.blank) == ((3, 9), ((4, 6), (12, 12)), (1,))
    np.testing.assert_array_equal(f.valid, expected.get_valid_samples_mask())


# -- bounded memory, measured in a subprocess ---------------------------------------------------
MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    import numpy, dask, dask.array
    from isx_dask.layout import IsxdFormatError
    from isx_dask.readers import open_isxd

    def vm(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(field)

    cap = vm("VmSize") + {cap_bytes}
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    before = vm("VmHWM")
    try:
        {body}
    except IsxdFormatError as err:
        print("IsxdFormatError:", str(err)[:300])
    except MemoryError:
        print("MemoryError")
        sys.exit(3)
    print("peak_growth", vm("VmHWM") - before)
    """
)
CAP_BYTES = 512 * 2**20
PEAK_BOUND = 256 * 2**20


def run_bounded(body: str) -> tuple[str, int]:
    """Run ``body`` (indented into a try block) with the address space capped; its output and peak RSS growth."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the memory bound is measured with /proc/self/status and RLIMIT_AS (Linux)")
    script = MEMORY_SCRIPT.format(cap_bytes=CAP_BYTES, body=textwrap.indent(textwrap.dedent(body), " " * 4).strip())
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    growth = int(proc.stdout.strip().splitlines()[-1].split()[1])
    return proc.stdout, growth


def test_crafted_footer_claiming_a_billion_cropped_frames_opens_in_bounded_memory(tmp_path):
    """1.4 KB: numTimes 10**9, all but 10 frames cropped; opening, metadata and reading the stored frames stay small."""
    _, footer = split(MOVIE)
    n = 10**9
    footer["timingInfo"].update(numTimes=n, dropped=[], blank=[], cropped=[f"0 - {n - 11}"])
    footer["spacingInfo"]["numPixels"] = {"x": 1, "y": 1}
    footer["dataType"] = 2
    p = tmp_path / "crafted.isxd"
    p.write_bytes(build(bytes(range(10)), footer))
    assert p.stat().st_size < 1500
    out, growth = run_bounded(
        f"""
        f = open_isxd({str(p)!r})
        print(repr(f), f.timing.num_valid_samples, f.timing.cropped)
        tail = f.frames[-10:].compute(scheduler="synchronous")
        assert tail.ravel().tolist() == list(range(10)), tail.ravel()
        assert f.get_frame(0).sum() == 0 and int(f.get_frame({n - 1})[0, 0]) == 9
        """
    )
    assert "10 ((0, 999999989),)" in out, out
    assert growth < PEAK_BOUND, f"peak RSS grew by {growth} bytes"


def _sparse_8_gib(tmp_path: Path) -> Path | None:
    """An 8 GiB sparse file whose size field says the JSON starts at byte 0 (None without sparse files)."""
    p = tmp_path / "sparse.isxd"
    size = 8 * 2**30
    with open(p, "wb") as f:
        f.write(b"{" + b" " * 1000)
        f.truncate(size)
        f.seek(size - 8)
        f.write(struct.pack("<Q", size - 9))
    st = p.stat()
    if getattr(st, "st_blocks", None) is None or st.st_blocks * 512 > 2**24:
        p.unlink()
        return None
    return p


def test_malformed_files_are_refused_in_bounded_memory(tmp_path):
    """A size field spanning a sparse 8 GiB file, JSON nested 5 million deep, and a cell set
    claiming 10**15 samples per trace: each refused with IsxdFormatError, peak RSS small."""
    cases: dict[str, tuple[Path, str]] = {}
    sparse = _sparse_8_gib(tmp_path)
    if sparse is not None:
        cases["sparse"] = (sparse, "footer")
    nested = tmp_path / "nested.isxd"
    nested.write_bytes(build(b"", b'{"type": 0, "x": ' + b"[" * 5_000_000 + b"]" * 5_000_000 + b"}"))
    cases["nested"] = (nested, "nest")
    data, footer = split(CELLS)
    footer["timingInfo"].update(numTimes=10**15, cropped=[f"0 - {10**15 - 1}"], dropped=[], blank=[])
    cells = tmp_path / "cells.isxd"
    cells.write_bytes(build(data, footer))
    cases["cells"] = (cells, "cells")
    paths = {key: str(p) for key, (p, _) in cases.items()}
    out, growth = run_bounded(
        f"""
        for key, path in {paths!r}.items():
            try:
                open_isxd(path)
                print(key, "opened")
            except IsxdFormatError as err:
                print(key, "IsxdFormatError:", str(err)[:300])
        """
    )
    lines = dict(line.split(" ", 1) for line in out.splitlines()[:-1])
    for key, (_, match) in cases.items():
        assert lines[key].startswith("IsxdFormatError") and match in lines[key], out
    assert growth < PEAK_BOUND, f"peak RSS grew by {growth} bytes"
    if sparse is None:
        pytest.skip("the file system does not store sparse files: the 8 GiB case did not run (the others passed)")
