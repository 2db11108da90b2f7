"""README.md is a front page (issue 33): short, with the Table 3.1 figure and the two commands; what it said
before the move lives on under docs/, and every relative link of README and docs/ points at a committed file."""
import json
import re
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "docs" / "measurements" / "README.md"]
# every number of README.md as it was before the move (main 5554b91), by its section; tests/readme_facts.json
FACTS = json.loads((ROOT / "tests" / "readme_facts.json").read_text())
NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?:e[−+-]?\d+)?(?![\w])")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_is_a_front_page():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    assert "](docs/measurements/cpu-2026-12-02/powered/figures/06_table_3_1.png)" in text
    assert "make study   # the notebook series on the default profile -> outputs/default/\n" in text
    assert "make test    # unit tests + a smoke run of the whole notebook series\n" in text
    for page in ("findings", "data", "cost", "running", "troubleshooting"):
        assert f"](docs/{page}.md)" in text


def test_every_number_the_old_readme_quoted_is_still_said():
    said = set()
    for page in PAGES:
        said |= set(NUMBER.findall(page.read_text()))
    missing = {section: [n for n in numbers if n not in said] for section, numbers in FACTS.items()}
    assert sum(len(v) for v in FACTS.values()) > 400  # the facts file is the whole old README's, not a sample
    assert {k: v for k, v in missing.items() if v} == {}


def test_every_relative_link_points_at_a_committed_file():
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if re.match(r"^[a-z]+:", target):  # http(s), mailto
                continue
            path, _, anchor = unquote(target).partition("#")
            file = page.parent / path if path else page
            if not file.exists() or (anchor and file.suffix == ".md" and anchor not in _anchors(file)):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []


def _anchors(page: Path) -> set[str]:
    """The heading anchors a code host gives a markdown page: lower case, punctuation dropped, spaces as '-'."""
    heads = re.findall(r"(?m)^#+ (.+)$", page.read_text())
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in heads}


def test_each_measurement_folder_is_indexed():
    index = (ROOT / "docs" / "measurements" / "README.md").read_text()
    folders = [p.name for p in (ROOT / "docs" / "measurements").iterdir() if p.is_dir()]
    assert folders and all(f"({name}/" in index for name in folders)
