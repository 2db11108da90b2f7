"""The package's rooms import one way (docs/ARCHITECTURE.md): core <- stats, data, nas, mi <- study <- cost, views <- top."""
import ast
import importlib
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "minas"
# a room may import the rooms listed for it (and itself); data, nas and mi are peers that never import each other
ALLOWED = {
    "core": set(),
    "stats": {"core"},
    "data": {"core"},
    "nas": {"core"},
    "mi": {"core"},
    "study": {"core", "stats", "data", "nas", "mi"},
    "cost": {"core", "stats", "data", "nas", "mi", "study"},
    "views": {"core", "stats", "data", "nas", "mi", "study"},
    "top": {"core", "stats", "data", "nas", "mi", "study", "cost", "views"},
}


def room_of(module: str) -> str:
    """'minas.study.jobs' -> 'study'; the package's own top modules (pipeline, __main__, __init__) -> 'top'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ALLOWED else "top"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every minas module a file imports, at any depth (late imports inside functions too)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("minas")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("minas") and not node.level:
            if node.module == "minas":  # from minas import mi, data -> each name is a module
                out += [(node.lineno, f"minas.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, node.module))
    return out


def violations(pkg: Path = PKG) -> list[str]:
    bad = []
    for path in sorted(pkg.rglob("*.py")):
        rel = path.relative_to(pkg.parent).with_suffix("")
        room = room_of(".".join(rel.parts))
        for line, mod in imported_modules(path):
            target = room_of(mod)
            if target != room and target not in ALLOWED[room]:
                bad.append(f"{rel}.py:{line} ({room}) imports {mod} ({target})")
    return bad


def test_imports_run_one_way():
    assert violations() == []


def test_statistics_import_neither_torch_nor_the_study():
    """A statistician reads and tests minas.stats alone: numpy and scipy, the seeding helper, nothing else."""
    for path in sorted((PKG / "stats").rglob("*.py")):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and not n.level]
        assert not [m for m in names if m.split(".")[0] == "torch" or m.startswith("minas.study")], path
        assert {m for m in names if m.startswith("minas")} <= {"minas.core.seeding", "minas.stats"} | {
            f"minas.stats.{q.stem}" for q in (PKG / "stats").glob("*.py")}, path


def test_every_room_says_what_it_holds_and_may_import():
    for room in ALLOWED:
        if room == "top":
            continue
        doc = ast.get_docstring(ast.parse((PKG / room / "__init__.py").read_text())) or ""
        assert doc.startswith(f"{room}:") and "May import:" in doc, room


def test_the_check_catches_an_upward_import(tmp_path):
    pkg = tmp_path / "minas"
    (pkg / "core").mkdir(parents=True)
    (pkg / "core" / "store.py").write_text("def f():\n    from minas.study import jobs\n")
    (pkg / "mi").mkdir()
    (pkg / "mi" / "probe.py").write_text("from minas import data\n")
    assert violations(pkg) == ["minas/core/store.py:2 (core) imports minas.study (study)",
                               "minas/mi/probe.py:1 (mi) imports minas.data (data)"]


@pytest.mark.parametrize("name", ["estimate_mi", "estimate_layers", "estimate_mi_continuous"])
def test_public_mi_names_stay_where_users_expect_them(name):
    import minas
    from minas import mi

    fn = getattr(mi, name)
    assert fn.__name__ == name and fn.__module__.startswith("minas.mi.")  # the function itself, from its module
    assert minas.load is minas.config.load is importlib.import_module("minas.core.config").load
    assert {n: getattr(minas, n) for n in minas.__all__}  # every name minas exports resolves (imported on first use)
