"""The glyph families on real fonts: matplotlib's DejaVu/STIX always, Debian's fonts-noto-core where installed."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from minas import data
from minas.__main__ import main
from minas.core import config
from minas.data import DataError, fonts, glyphs
from minas.core.registry import DATA_FAMILIES


@pytest.fixture(autouse=True)
def fresh_caches():
    data.clear_caches()
    yield
    data.clear_caches()


def cfg_for(root, source="glyphs", **overrides):
    return config.load("smoke", **{"data.source": source, "data.root": str(root), "data.tasks": [],
                                   "data.max_train_per_task": 120, "data.max_test_per_task": 60, **overrides})


def test_matplotlib_fonts_give_independent_script_sources():
    found = fonts.scripts("matplotlib")
    assert {"latin", "greek", "cyrillic", "hebrew", "armenian", "georgian"} <= set(found)
    assert len(found) >= 12
    for s in found.values():
        assert len(s.fonts) >= fonts.MIN_FONTS and len(s.chars) >= fonts.MIN_CHARS
        assert all(Path(p).parent == fonts.matplotlib_fonts_dir() for p in s.fonts)
        assert all(fonts.script_of(c) == s.name for c in s.chars)
    assert ord("A") in found["latin"].chars and ord("\u00c1") not in found["latin"].chars  # no precomposed letters
    assert 0x03b1 in found["greek"].chars  # alpha


def test_a_task_is_real_glyphs_that_survive_augmentation(tmp_path):
    cfg = cfg_for(tmp_path, **{"data.tasks": ["glyphs-greek-0"]})
    (task,) = data.build_tasks(cfg)
    script, letters = glyphs.task_letters("matplotlib", "glyphs", "glyphs-greek-0")
    assert task.source == "script-greek" and task.family == "glyphs-greek" and script.name == "greek"
    assert glyphs.K_RANGE[0] <= task.n_classes == len(letters) <= glyphs.K_RANGE[1]
    assert task.x_train.shape == (120, 1, 12, 12) and task.x_test.shape == (60, 1, 12, 12)
    assert sorted(task.y_train.unique().tolist()) == list(range(task.n_classes))
    # the letter, not the style, decides the class: nearest class mean on unseen draws beats chance by far
    xtr, xte = task.x_train.float().flatten(1).numpy(), task.x_test.float().flatten(1).numpy()
    xtr, xte = xtr - xtr.mean(1, keepdims=True), xte - xte.mean(1, keepdims=True)
    means = np.stack([xtr[task.y_train.numpy() == k].mean(0) for k in range(task.n_classes)])
    guess = ((xte[:, None] - means[None]) ** 2).sum(-1).argmin(1)
    assert (guess == task.y_test.numpy()).mean() > 2.0 / task.n_classes
    assert task.x_train.float().std() > 20  # ink on paper, not a blank canvas


def test_same_seed_same_bytes_other_seed_other_draws(tmp_path):
    name = "glyphs-hebrew-1"
    a = glyphs.glyph_rows(cfg_for(tmp_path / "a"), "matplotlib", "glyphs", name)
    b = glyphs.glyph_rows(cfg_for(tmp_path / "b"), "matplotlib", "glyphs", name)  # rendered again, no cache shared
    for ra, rb in zip(a, b):
        assert ra.x.tobytes() == rb.x.tobytes() and np.array_equal(ra.y, rb.y) and np.array_equal(ra.font, rb.font)
    c = glyphs.glyph_rows(cfg_for(tmp_path / "c", seed=1), "matplotlib", "glyphs", name)
    assert a[0].x.tobytes() != c[0].x.tobytes()
    assert glyphs.task_letters("matplotlib", "glyphs", name) == glyphs.task_letters("matplotlib", "glyphs", name)


def test_cached_rows_are_the_rendered_rows(tmp_path):
    cfg = cfg_for(tmp_path)
    first = glyphs.glyph_rows(cfg, "matplotlib", "glyphs", "glyphs-latin-1")
    (cached,) = list((tmp_path / "glyphs").glob("glyphs-latin-1-*.npz"))
    again = glyphs.glyph_rows(cfg, "matplotlib", "glyphs", "glyphs-latin-1")
    assert cached.exists() and all(f.x.tobytes() == g.x.tobytes() for f, g in zip(first, again))


def test_train_and_test_rows_share_no_font_and_draw(tmp_path):
    train, test = glyphs.glyph_rows(cfg_for(tmp_path), "matplotlib", "glyphs", "glyphs-cyrillic-0")
    assert not set(zip(train.font, train.draw)) & set(zip(test.font, test.draw))
    assert train.draw.max() < test.draw.min()
    n_fonts = len(glyphs.task_letters("matplotlib", "glyphs", "glyphs-cyrillic-0")[0].fonts)
    assert set(train.font) == set(range(n_fonts))  # every face that covers the letters draws rows


def test_whole_sources_are_held_out(tmp_path):
    cfg = cfg_for(tmp_path)
    names = DATA_FAMILIES.get("glyphs").task_names(cfg)
    splits = {glyphs.source_split(n.split("-", 1)[1].rsplit("-", 1)[0]) for n in names}
    assert splits == {"train", "test"}
    for script in fonts.scripts("matplotlib"):
        assert glyphs.source_split(script) in ("train", "test")


def test_cli_tasks_counts_glyph_sources_and_names_a_missing_font_package(capsys, tmp_path, monkeypatch):
    names = "[glyphs-greek-0, glyphs-greek-1, glyphs-latin-0]"
    assert main(["tasks", "--profile", "smoke", "--set", "data.source=embedded+glyphs", "--set", f"data.tasks={names}",
                 "--set", f"data.root={tmp_path}"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "sources: 2" and "script-greek" in out[1] and "test" in out[3]
    monkeypatch.setattr(fonts, "NOTO_DIR", tmp_path / "no-noto")
    fonts.scripts.cache_clear()
    glyphs._names.cache_clear()
    try:
        assert main(["tasks", "--profile", "smoke", "--set", "data.source=glyphs-noto"]) == 1
        assert "apt-get install fonts-noto-core" in capsys.readouterr().err
    finally:
        fonts.scripts.cache_clear()
        glyphs._names.cache_clear()


def test_missing_noto_fonts_name_the_fix_before_any_work(tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "NOTO_DIR", tmp_path / "no-noto")
    fonts.scripts.cache_clear()
    glyphs._names.cache_clear()
    try:
        with pytest.raises(DataError, match=r"fonts-noto-core.*make study.*apt-get install fonts-noto-core"):
            data.check_data(cfg_for(tmp_path / "root", source="embedded+glyphs-noto"))
        assert not (tmp_path / "root").exists()  # nothing rendered, nothing cached
    finally:
        fonts.scripts.cache_clear()
        glyphs._names.cache_clear()


@pytest.mark.skipif(not fonts.noto_installed(), reason="fonts-noto-core not installed (apt-get install fonts-noto-core)")
def test_noto_fonts_give_at_least_30_sources(tmp_path):
    found = fonts.scripts("noto")
    assert len(found) >= 30 and {"devanagari", "ethiopic", "thai", "tamil"} <= set(found)
    (task,) = data.build_tasks(cfg_for(tmp_path, source="glyphs-noto", **{"data.tasks": ["glyphs-noto-devanagari-0"]}))
    assert task.source == "script-devanagari" and task.x_train.float().std() > 20


def test_cli_tasks_lists_the_smoke_profile(capsys, tmp_path):
    assert main(["tasks", "--profile", "smoke", "--set", f"data.root={tmp_path}"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    cfg = config.load("smoke", **{"data.root": str(tmp_path)})
    assert out[0].split()[:3] == ["name", "family", "source"] and len(out) == len(cfg.data.tasks) + 2
    n_sources = len({data.get_task(cfg, n).source for n in cfg.data.tasks})
    assert out[-1] == f"sources: {n_sources}"


@pytest.mark.skipif(not fonts.noto_installed(), reason="fonts-noto-core not installed (apt-get install fonts-noto-core)")
def test_the_powered_profile_takes_one_task_from_each_of_at_least_30_sources():
    cfg = config.load("powered")
    known = DATA_FAMILIES.get("glyphs-noto").task_names(cfg)
    assert set(cfg.data.tasks) <= set(known), sorted(set(cfg.data.tasks) - set(known))
    scripts = {name.removeprefix("glyphs-noto-").rsplit("-", 1)[0] for name in cfg.data.tasks}
    assert len(scripts) == len(cfg.data.tasks) >= 30 and scripts <= set(fonts.scripts("noto"))
