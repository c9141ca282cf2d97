"""The README's promises: exactly two set-up commands, CI runs the test command verbatim, and every
Python block runs as written.

Blocks run section by section (a ``## `` heading starts a section): each section gets a fresh
empty working directory and one namespace, and its blocks run in order in it, as a reader would
paste them. A block right after ``<!-- readme-test: skip (reason) -->`` is not run (it needs a
cluster or the network); nothing else is skipped, and no size is substituted: the examples are
written small. Some outputs are then compared with the official ``isx`` reader and with values
computed here from the blocks' own inputs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

TEST_COMMAND = 'python3 -m venv .venv && . .venv/bin/activate && pip install ".[test]" && python -m pytest'
SKIP_MARK = re.compile(r"<!-- readme-test: skip \(([^)]+)\) -->\s*$")
FENCE = re.compile(r"^```(\w*)\s*$")


def command_after(marker: str) -> list[str]:
    """Lines of the fenced block right after ``marker``, as .ci/run extracts them."""
    lines = README.splitlines()
    start = lines.index(marker) + 1
    assert FENCE.match(lines[start]), f"{marker} must be followed directly by a fenced block"
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    return [line for line in lines[start + 1 : end] if line.strip()]


def sections() -> dict[str, list[tuple[int, str, str | None]]]:
    """``{section title: [(line number, python source, skip reason or None), ...]}`` in README order."""
    found: dict[str, list[tuple[int, str, str | None]]] = {}
    title = "(top)"
    lines = README.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            title = line[3:].strip()
        fence = FENCE.match(line)
        if fence:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            if fence.group(1) == "python":
                previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
                mark = SKIP_MARK.search(previous)
                found.setdefault(title, []).append((i + 2, "\n".join(lines[i + 1 : end]) + "\n", mark and mark.group(1)))
            i = end
        i += 1
    return found


SECTIONS = sections()


def test_exactly_two_setup_commands():
    assert README.count("<!-- demo-command -->") == 1
    assert README.count("<!-- test-command -->") == 1
    assert command_after("<!-- test-command -->") == [TEST_COMMAND]
    demo = command_after("<!-- demo-command -->")
    assert len(demo) == 1 and demo[0].startswith("python3 -m venv .venv && . .venv/bin/activate && pip install .")
    assert demo[0].endswith("isx-dask demo")
    # no other set-up command: the set-up section holds exactly these two blocks
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    assert setup.count("```bash") == 2


def test_ci_runs_the_readme_test_command():
    script = ROOT / ".ci" / "run"
    if not script.exists():  # installed elsewhere than a checkout
        pytest.skip("no .ci/run outside a checkout")
    extracted = subprocess.run(
        ["bash", "-c", "awk '/<!-- test-command -->/{grab=1; next} grab && /^```/{if (started) exit; started=1; next} grab && started' README.md"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert extracted == TEST_COMMAND
    assert "<!-- test-command -->" in script.read_text()


def test_only_blocks_that_need_a_cluster_or_the_network_are_skipped():
    reasons = [reason for blocks in SECTIONS.values() for _, _, reason in blocks if reason]
    assert reasons, "the cluster example is expected to be marked"
    assert all(re.search(r"cluster|network", reason) for reason in reasons), reasons
    runnable = sum(1 for blocks in SECTIONS.values() for _, _, reason in blocks if not reason)
    assert runnable >= 8


def test_linked_notebooks_exist():
    linked = set(re.findall(r"\]\((notebooks/[\w.]+\.ipynb)\)", README))
    assert {"notebooks/quickstart.ipynb", "notebooks/cluster.ipynb", "notebooks/zarr_to_isxd.ipynb"} <= linked
    assert all((ROOT / link).is_file() for link in linked), linked


def test_readme_command_lines_use_commands_and_options_that_exist():
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    lines = [line.split("#")[0].split() for block in blocks for line in block.splitlines() if line.startswith("isx-dask ")]
    assert len(lines) >= 8
    helps: dict[str, str] = {}
    for words in lines:
        command = words[1]
        if command not in helps:
            helps[command] = subprocess.run([sys.executable, "-m", "isx_dask", command, "--help"],
                                            capture_output=True, text=True, check=True).stdout
        for option in (w for w in words if w.startswith("--")):
            assert re.search(rf"(^|[\s\[,]){re.escape(option)}\b", helps[command]), f"isx-dask {command} has no {option}"


# --- checks of what the sections wrote, against the official reader and independent values ---


def check_movie_from_dask(ns: dict[str, Any], isx: Any) -> None:
    movie = isx.Movie.read("movie.isxd")
    assert movie.timing.num_samples == 1000 and list(movie.timing.dropped) == [17, 18]
    assert movie.spacing.num_pixels == (128, 160)
    expected = ns["frames"][:20].compute()
    np.testing.assert_array_equal(movie.get_frame_data(3), expected[3])
    np.testing.assert_array_equal(movie.get_frame_data(19), expected[19])
    valid = np.ones(1000, bool)
    valid[[17, 18]] = False
    np.testing.assert_allclose(ns["mean_image"], ns["frames"][valid].mean(axis=0).compute())


def check_official_api(ns: dict[str, Any], isx: Any) -> None:
    cells = isx.CellSet.read("official_api_cells.isxd")
    assert cells.num_cells == 3 and cells.get_cell_name(2) == "C2"
    np.testing.assert_array_equal(cells.get_cell_image_data(1)[10:15, 20:25], np.ones((5, 5), np.float32))
    movie = isx.Movie.read("official_api_movie.isxd")
    rng = np.random.default_rng(0)
    first = rng.random((64, 80), dtype=np.float32)
    np.testing.assert_array_equal(movie.get_frame_data(0), first)


def check_sets(ns: dict[str, Any], isx: Any) -> None:
    cells = isx.CellSet.read("cells.isxd")
    assert [cells.get_cell_name(k) for k in range(6)] == [f"cell{k}" for k in range(6)]
    assert [cells.get_cell_status(k) for k in range(6)] == ["accepted"] * 2 + ["rejected"] + ["accepted"] * 2 + ["rejected"]
    np.testing.assert_array_equal(cells.get_cell_trace_data(4), ns["traces"][4])
    np.testing.assert_array_equal(cells.get_cell_image_data(5), ns["footprints"][5])
    events = isx.EventSet.read("events.isxd")
    for k in range(6):
        samples = np.flatnonzero(ns["spikes"][k])
        offsets, amplitudes = events.get_cell_data(k)
        np.testing.assert_allclose(offsets, samples * 50_000, rtol=0, atol=1)  # the official reader can be 1 us low
        np.testing.assert_array_equal(ns["xd"].open_isxd("events.isxd").get_cell_data(k)[0], samples * 50_000)
        np.testing.assert_array_equal(amplitudes, ns["spikes"][k][samples])
    listed = isx.EventSet.read("events_listed.isxd")
    np.testing.assert_array_equal(listed.get_cell_data(0)[0], [0, 1_500_000])
    gpio = isx.GpioSet.read("gpio.isxd")
    assert gpio.get_channel_name(0) == "GPIO-1"
    np.testing.assert_array_equal(gpio.get_channel_data(0)[1], [0.0, 1.0, 0.0])
    vessels = isx.VesselSet.read("vessels.isxd")
    assert vessels.num_vessels == 2


def check_formats(ns: dict[str, Any], isx: Any) -> None:
    stack = ns["stack"]
    tiffs = isx.Movie.read("from_tiffs.isxd")
    assert tiffs.timing.num_samples == 200
    np.testing.assert_array_equal(tiffs.get_frame_data(150), stack[150])
    green, red = isx.Movie.read("green.isxd"), isx.Movie.read("red.isxd")
    np.testing.assert_array_equal(red.get_frame_data(7), stack[15])
    assert green.timing.period.secs_float == pytest.approx(0.1)
    mmap = isx.Movie.read("from_mmap.isxd")
    np.testing.assert_array_equal(mmap.get_frame_data(42), ns["motion_corrected"][42])
    footprints, traces = ns["footprints"], ns["traces"]
    accepted = ["accepted"] * 6 + ["rejected"] * 2
    for path, statuses, trace_rtol in [("suite2p_cells.isxd", [("rejected" if k % 4 == 3 else "accepted") for k in range(8)], 0),
                                       ("caiman_cells.isxd", accepted, 0),
                                       ("minian_cells.isxd", ["undecided"] * 8, 0),
                                       ("cnmfe_cells.isxd", ["undecided"] * 8, 0)]:
        cells = isx.CellSet.read(path)
        assert cells.num_cells == 8, path
        assert [cells.get_cell_status(k) for k in range(8)] == statuses, path
        np.testing.assert_allclose(cells.get_cell_trace_data(5), traces[5], rtol=trace_rtol, err_msg=path)
        np.testing.assert_allclose(cells.get_cell_image_data(2), footprints[2], rtol=1e-6, err_msg=path)
    events = isx.EventSet.read("suite2p_events.isxd")
    np.testing.assert_array_equal(events.get_cell_data(1)[1], ns["spikes"][1][ns["spikes"][1] > 0])


CHECKS: dict[str, Callable[[dict[str, Any], Any], None]] = {
    "Write a movie from Dask": check_movie_from_dask,
    "The official API, by changing an import": check_official_api,
    "Cell sets, event sets, vessel sets, GPIO": check_sets,
    "The field's formats, in and out": check_formats,
}


def test_every_checked_section_exists():
    assert set(CHECKS) <= set(SECTIONS)


@pytest.mark.parametrize("title", [t for t, blocks in SECTIONS.items() if any(not reason for _, _, reason in blocks)])
def test_readme_section_runs(title, tmp_path, monkeypatch, request):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    for line, source, reason in SECTIONS[title]:
        if not reason:  # padded so that tracebacks give README.md's own line numbers
            exec(compile("\n" * (line - 1) + source, str(ROOT / "README.md"), "exec"), namespace)
    check = CHECKS.get(title)
    if check is not None:
        check(namespace, request.getfixturevalue("isx"))
