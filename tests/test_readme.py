"""The README's promises: CI runs its test command verbatim, and its Dask example runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_ci_runs_the_readme_test_command():
    script = ROOT / ".ci" / "run"
    if not script.exists():  # installed elsewhere than a checkout
        return
    extracted = subprocess.run(
        ["bash", "-c", "awk '/<!-- test-command -->/{grab=1; next} grab && /^```/{if (started) exit; started=1; next} grab && started' README.md"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert 'pip install ".[test]"' in extracted and "pytest" in extracted
    assert "<!-- test-command -->" in script.read_text()


def test_readme_dask_example_runs(tmp_path, monkeypatch, isx):
    block = re.search(r"## Write a movie from Dask\s+```python\n(.*?)```", README, re.S).group(1)
    small = block.replace("6000", "60").replace("chunks=(200,", "chunks=(20,").replace("dropped=[17, 18]", "dropped=[17, 18]")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(small, "README.md", "exec"), namespace)
    movie = isx.Movie.read(str(tmp_path / "movie.isxd"))
    assert movie.timing.num_samples == 60 and list(movie.timing.dropped) == [17, 18]
    expected = namespace["frames"][:3].compute()
    np.testing.assert_array_equal(movie.get_frame_data(2), expected[2])
