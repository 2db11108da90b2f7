"""Old stores migrated once when their profile opens them (minas.core.migrate): a version-1 store, built here as the
code before minas.core.keys wrote it, comes out at version 2 with its rows and saved results under today's keys."""
import hashlib
import json
import sqlite3

from minas.core import check, config, keys, migrate
from minas.core.store import _TABLES, Store, open_store, schema_version

V1_TRAININGS = """task TEXT NOT NULL, arch TEXT NOT NULL, seed INTEGER NOT NULL, epochs INTEGER NOT NULL,
    config TEXT NOT NULL, kind TEXT NOT NULL, accuracy REAL, test_loss REAL, seconds REAL, checkpoint TEXT,
    history TEXT, created REAL, PRIMARY KEY (task, arch, seed, epochs, config, kind)"""
V1_RESULTS = "kind TEXT NOT NULL, key TEXT NOT NULL, config TEXT NOT NULL, value TEXT NOT NULL, created REAL, " \
             "PRIMARY KEY (kind, key, config)"


def _cfg(tmp_path):
    return config.load("smoke", output_dir=str(tmp_path / "out"), **{"data.root": str(tmp_path / "data")})


def _old_controller_key(cfg) -> str:
    """The controller key as the code of f1f9941 built it, written out here independently of minas.core.migrate."""
    d = cfg.to_dict()
    blob = {k: d[k] for k in ("seed", "data", "train", "mi", "hyperband", "collection")}
    blob["collection"].pop("seeds")
    blob["mi"]["methods"] = blob["mi"].pop("signals")
    blob["train"].pop("group_size")
    for k in ("lam_mode", "max_clean"):
        blob["hyperband"].pop(k)
    blob["controller"] = {k: d["controller"][k] for k in ("lr", "datasets_per_iteration", "optimizer")}
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:12]


def _version_1_store(cfg) -> None:
    """outputs/<profile>/store.sqlite and one saved result as version 1 left them: no engine/device columns,
    two controller iterations and a manifest under the old keys."""
    cfg.out.mkdir(parents=True)
    con = sqlite3.connect(cfg.out / "store.sqlite")
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute(f"CREATE TABLE trainings ({V1_TRAININGS})")
    con.execute(f"CREATE TABLE results ({V1_RESULTS})")
    for table in ("mi", "brackets"):  # unchanged since version 1
        con.execute(f"CREATE TABLE {table} ({_TABLES[table]})")
    old = _old_controller_key(cfg)
    con.execute("INSERT INTO trainings VALUES ('t', '10-10-10-10', 0, 2, 'c', 'fixed', 0.5, 1.0, 1.0, '', '[]', 0)")
    for it in (0, 1):
        con.execute("INSERT INTO results VALUES ('controller-exp1', ?, ?, ?, 0)", (str(it), old, json.dumps({"it": it})))
    con.execute("INSERT INTO results VALUES ('other', '0', ?, '{}', 0)", (old,))  # not a controller row: left alone
    con.commit()
    con.close()
    saved = cfg.out / "06" / "answer"
    saved.mkdir(parents=True)
    (saved / "manifest.json").write_text(json.dumps({"class": "X", "settings": migrate.old_result_key(cfg)}))


def test_a_version_1_store_is_migrated_once_when_its_profile_opens_it(tmp_path):
    cfg = _cfg(tmp_path)
    _version_1_store(cfg)
    path, old, new = cfg.out / "store.sqlite", _old_controller_key(cfg), keys.controller_key(cfg)
    assert migrate.old_controller_key(cfg) == old != new
    assert check.verify(path) == []  # a version-1 store is readable, not a problem

    bare = Store(path)  # without its config: gains the columns, keeps its version and its rows' keys
    assert bare.get_training("t", "10-10-10-10", 0, 2, "c")["engine"] is None
    assert schema_version(bare._con) == 1 and bare.get_result("controller-exp1", "0", old) == {"it": 0}
    bare.put_result("controller-exp1", "1", new, {"it": "recomputed"})  # a row under the new key already there
    bare.close()

    store = open_store(cfg)
    assert schema_version(store._con) == migrate.SCHEMA_VERSION == 2
    assert store.get_result("controller-exp1", "0", new) == {"it": 0}  # carried
    assert store.get_result("controller-exp1", "1", new) == {"it": "recomputed"}  # the newer row wins
    assert store.frame("results", config=old).kind.tolist() == ["other"]
    manifest = json.loads((cfg.out / "06" / "answer" / "manifest.json").read_text())
    assert manifest == {"class": "X", "settings": keys.result_key(cfg)}


def test_the_migration_runs_once(tmp_path):
    cfg = _cfg(tmp_path)
    _version_1_store(cfg)
    open_store(cfg).close()
    with sqlite3.connect(cfg.out / "store.sqlite") as con:  # an old-key row appearing later is not touched again
        con.execute("INSERT INTO results VALUES ('controller-exp1', '5', ?, '{}', 0)", (_old_controller_key(cfg),))
    store = open_store(cfg)
    assert store.get_result("controller-exp1", "5", _old_controller_key(cfg)) == {}
    assert store.get_result("controller-exp1", "5", keys.controller_key(cfg)) is None


def test_a_fresh_store_starts_at_the_current_version(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    assert schema_version(store._con) == migrate.SCHEMA_VERSION


def test_an_old_params_name_is_carried_to_its_name_now():
    raw = {"mi": {"methods": ["ba"]}}
    migrate.rename_params(raw, "old.yaml")
    assert raw == {"mi": {"signals": ["ba"]}} and migrate.rename_override("mi.methods") == "mi.signals"
    assert migrate.rename_override("train.lr") == "train.lr"
