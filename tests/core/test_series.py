"""The notebook series is whatever notebooks/NN_name.ipynb holds (minas.core.series)."""
from minas.core import series


def test_a_notebook_dropped_into_the_folder_joins_the_series_in_order(tmp_path):
    for name in ("02_b.ipynb", "01_a.ipynb", "10_c.ipynb", "notes.ipynb", "1_x.ipynb", "03_d.txt"):
        (tmp_path / name).write_text("{}")
    assert series.notebook_names(tmp_path) == ["01_a", "02_b", "10_c"]
    assert [p.name for p in series.notebooks(tmp_path)] == ["01_a.ipynb", "02_b.ipynb", "10_c.ipynb"]


def test_the_repository_series_starts_at_01_and_has_no_gaps():
    numbers = [int(n[:2]) for n in series.notebook_names()]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 6
