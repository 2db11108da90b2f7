"""`minas plan` (cost.plan, cost.throughput): counts checked against the profile and the code, hours, clear errors."""
import json

import pytest

from minas.__main__ import main
from minas.core import config
from minas.cost import calibration, counts, plan, throughput
from minas.cost.counts.controller import requests
from minas.data.fashion import FashionFamily
from minas.data.task import TaskShape
from minas.data.thesis import ThesisFamily
from minas.study import collection, layer_mi


@pytest.fixture(scope="module")
def cfg():
    return config.load("smoke")


@pytest.fixture(scope="module")
def shapes(cfg):
    return plan.task_shapes(cfg)


@pytest.fixture(scope="module")
def works(cfg, shapes):
    return {w.notebook[:2]: w for w in plan.count(cfg, shapes[0])}


def test_collection_counts_follow_the_code(cfg, shapes, works):
    tasks, origin = shapes
    assert origin == "data" and sorted(t.name for t in tasks) == sorted(cfg.data.tasks)
    w3 = works["03"]
    specs = [s for c in collection.seed_configs(cfg) for t in tasks for s in collection.collection_brackets(c, t.name)]
    assert w3.hyperband_instances == len(specs) == 4 * 3 + 2 * 2  # smoke: 4 training tasks x 3 samples, 2 held out x 2
    inputs = sum(len(sum(collection.input_archs(c, t.name), [])) for c in collection.seed_configs(cfg) for t in tasks)
    assert w3.convergence_trainings == inputs == 4 * (2 + 3) + 2 * (2 + 2)
    assert w3.trainings == len(specs) * (6 + 4 + 2)  # every rung's survivors, one call each
    assert w3.arch_epochs == len(specs) * (6 * 1 + 4 * 1 + 2 * 1) + inputs * cfg.train.max_epochs
    assert w3.mi_estimates == inputs * len(cfg.mi.signals)
    per_epoch = cfg.train.max_epochs  # smoke: patience 1 + CONVERGE_EXTRA is past the cap of 4
    by_task = {t.name: t for t in tasks}
    want = sum(12 * by_task[s.task].n_train for s in specs)
    want += sum(per_epoch * (t.n_train - max(2, round(cfg.train.val_fraction * t.n_train))) *
                len(sum(collection.input_archs(cfg, t.name), [])) for t in tasks)
    assert sum(w3.images.values()) == pytest.approx(want)


def test_controller_counts_are_its_requests(cfg, shapes, works):
    pairs, asked = requests(cfg, shapes[0])
    cc = cfg.controller
    assert len(pairs) == works["05"].convergence_trainings == cc.seeds * cc.iterations * cc.datasets_per_iteration == 8
    training = 2 * cc.seeds * cc.iterations * cc.datasets_per_iteration  # Exp 1 and Exp 2, every run
    evals = (1 + 3 + 3 * (cc.seeds - 1)) * cc.eval_instances * len(cfg.data.tasks)  # uniform once; exp1, as trained, exp2
    assert works["05"].controller_instances == len(asked) == training + evals == 16 + 42
    assert sum(s.tag == "collection" for s in asked) == len(cfg.data.tasks)  # uniform: notebook 03's, read back
    assert works["05"].hyperband_instances == len(asked) - len(cfg.data.tasks)
    # on common random numbers a near-uniform (untrained) prior draws 03's own inputs: every evaluation instance's first
    # rung is read back, and only the 16 training instances train all 6 inputs (a trained prior draws other ones)
    first_rungs = sum(len({a.id for a in s.archs}) for s in asked if s.tag.startswith("controller-exp"))
    assert works["05"].trainings == first_rungs + 52 * (4 + 2) == 16 * 6 + 52 * 6 == 408


def test_target_validation_and_prediction_counts(cfg, works):
    t = cfg.target
    assert works["01"].trainings == len(t.tasks) * t.n_archs * t.n_seeds * len(cfg.hyperband.epochs_per_rung) == 18
    assert works["06"].convergence_trainings == len(t.reliability_tasks) * t.n_archs * t.n_seeds == 6
    assert works["02"].convergence_trainings == 2 * cfg.mi.n_standardize  # real_layers and layer_mi_on_tasks
    d = layer_mi.validation_design(cfg)
    assert len(d.problems) == 12 and len(d.thesis_problems) == 8 and len(d.curve_problems) == 4
    rows = d.study_rows  # 200 on smoke
    # image-shaped: 8 network problems + a shuffled twin of each high-truth one, 4 layers each, then the rows curve's
    # 2 network problems (K = 10, C = 10) at 150 and 300 rows
    assert works["02"].problem_rows[("ba", "image")] == 12 * 4 * rows + 2 * 4 * (150 + 300) == 13200
    assert works["02"].problem_rows[("mine", "image")] == 4 * 4 * rows  # the thesis MINE: C = 10 networks, no twins
    # flat: the known-MI suite (4 label tasks x 2 seeds x 600 rows; BA skips the continuous one), 4 flat problems + 2
    # twins, the curve's 2 flat problems, noisy labels on every row of the first training task at 3 flip rates
    assert works["02"].problem_rows[("ba", "flat")] == 4 * 2 * 600 + 6 * rows + 2 * (150 + 300) + 3 * (200 + 100)
    pc = cfg.predict
    nets, power_nets = (3 + 5) * pc.seeds, 2 * 2 * pc.power_reps * pc.seeds  # Experiment 1, its own power check
    cv_nets = 2 * 6 * 3 * (6 - 6 / 2) / 4  # 2 sources x 6 NNs x 3 seeds, on 3 of the split's 4 training tasks
    assert works["04"].predictors == pytest.approx(nets + power_nets + cv_nets) == 67
    assert works["04"].predictor_epochs == pytest.approx((nets + power_nets) * pc.epochs + cv_nets * 2) == 254
    assert works["04"].images == {} and works["04"].power_collections == 2 * pc.power_reps
    assert [w.figures for w in works.values()] == [6, 3, 3, 3, 4, 14]


def test_a_notebook_without_a_counter_is_planned_at_its_start(cfg, shapes):
    got = plan.count(cfg, shapes[0], stems=["01_data_prep", "07_new_idea"])
    assert [w.counted for w in got] == [True, False] and got[1].arch_epochs == 0 and got[1].figures == 0
    assert counts.notebook_stems()[:2] == ["01_data_prep", "02_mine_validation"]
    tp = throughput.Throughput("cpu", "fp32", [[1e5, 1e-4]], {}, startup_seconds=36.0)
    rows = plan.hours(got, tp, 1)
    assert rows[1]["hours"] == pytest.approx(36.0 / 3600) and rows[-1]["uncounted"] == ["07_new_idea"]


def test_families_give_their_published_shape(cfg):
    default = config.load("default")
    assert FashionFamily().shape(default, "fashion-tops") == TaskShape("fashion-tops", "test", 1200, 300, 1, 16,
                                                                     "fashion-mnist")
    assert ThesisFamily().shape(default, "tiny-imagenet-17") == TaskShape("tiny-imagenet-17", "test", 1200, 300, 3, 32,
                                                                          "tiny-imagenet")
    assert ThesisFamily().shape(default, "emnist-letters").split == "train"


def test_measured_convergence_epochs_price_convergence_trainings(cfg, shapes):
    two, three = (plan.count(cfg, shapes[0], e) for e in (2.0, 3.0))
    for a, b in zip(two, three):  # one more epoch per training to convergence, nothing else
        assert b.arch_epochs - a.arch_epochs == pytest.approx(a.convergence_trainings) and a.trainings == b.trainings
    capped = plan.count(cfg, shapes[0], 100.0)[2]
    assert capped.arch_epochs == plan.count(cfg, shapes[0], float(cfg.train.max_epochs))[2].arch_epochs


def test_more_seeds_and_rows_cost_more(cfg, shapes):
    more = config.load("smoke", **{"collection.seeds": 2, "controller.iterations": 4})
    a, b = plan.count(cfg, shapes[0]), plan.count(more, shapes[0])
    assert b[2].hyperband_instances == 2 * a[2].hyperband_instances
    assert b[4].controller_instances == a[4].controller_instances + 2 * 2 * 2 * 2  # 2 more iterations: M x 2 runs x 2 exps


def test_hours_from_a_throughput_file(cfg, works, tmp_path):
    tp = throughput.Throughput("cpu", "fp32", [[1e5, 1e-4], [1e7, 1e-3]], {m: 2.0 for w in works.values() for m in w.mi_rows})
    path = tmp_path / "tp.json"
    tp.save(path)
    back = throughput.load_throughput(path)
    assert back.points == tp.points and back.source == str(path)
    assert back.seconds_per_image(1e6) == pytest.approx(10 ** -3.5)  # log-log midpoint
    assert back.seconds_per_image(1e8) == pytest.approx(10 ** -2.5)  # extended along the last segment (slope 1/2)
    assert back.seconds_per_image(1e3) == pytest.approx(1e-4)  # below the smallest network: its time
    ws = list(works.values())
    one, two = plan.hours(ws, back, 1), plan.hours(ws, back, 2)
    assert one[-1]["hours"] == pytest.approx(sum(r["hours"] for r in one[:-1]))
    w3 = [r for r in one if r["notebook"].startswith("03")][0]
    assert [r for r in two if r["notebook"].startswith("03")][0]["hours"] == pytest.approx(w3["hours"] / 2)
    mi_s = sum(r / 1000 * 2.0 for r in works["03"].mi_rows.values())
    assert w3["mi_hours"] == pytest.approx(mi_s / 3600)
    w2 = [r for r in one if r["notebook"].startswith("02")][0]
    problems = sum(r for (m, _), r in works["02"].problem_rows.items() if m in tp.mi_seconds_per_1000)
    mi_2 = sum(r / 1000 * 2.0 for r in works["02"].mi_rows.values()) + problems / 1000 * 2.0 / 4  # unmeasured: a layer
    assert w2["mi_hours"] == pytest.approx(mi_2 / 3600)
    started = plan.hours(ws, throughput.Throughput(**{**vars(back), "startup_seconds": 36.0, "predictor_seconds": [1.0, 0.5],
                                                      "figure_seconds": 2.0}), 1)
    w4 = works["04"]
    assert started[-1]["hours"] - one[-1]["hours"] == pytest.approx(
        (6 * 36.0 + 33 * 2.0 + w4.predictors + 0.5 * w4.predictor_epochs) / 3600)  # 33 figures in the series
    flat = throughput.Throughput(**{**vars(back), "problem_seconds_per_1000": {"ba": {"flat": 0.25}}})
    assert flat.problem_seconds("ba", "flat", 4000) == 1.0 and flat.problem_seconds("ba", "image", 4000) == 2.0
    old = {**json.loads(path.read_text()), "power_seconds": {"fixed": 1.0}}  # a cache written before 06 dropped its power curve
    path.write_text(json.dumps(old))
    assert throughput.load_throughput(path).predictor_seconds == []


def test_bad_throughput_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"device": "cpu", "precision": "fp32", "points": [[0, 1]], "mi_seconds_per_1000": {}}))
    with pytest.raises(ValueError, match="save-throughput"):
        throughput.load_throughput(bad)
    with pytest.raises(ValueError, match="save-throughput"):
        throughput.load_throughput(tmp_path / "missing.json")


def test_cli_plan_prints_every_notebook(works, tmp_path, capsys):
    path = tmp_path / "tp.json"
    throughput.Throughput("cpu", "fp32", [[1e5, 1e-4], [1e7, 1e-3]], {"ba": 1.0}).save(path)
    assert main(["plan", "--profile", "smoke", "--throughput", str(path)]) == 0
    out = capsys.readouterr().out
    for nb in ("01_data_prep", "03_hyperband_collection", "05_controller_training", "total"):
        assert nb in out
    assert "no throughput for" in out  # smoke's other signals were not priced by this file
    assert "group_size" not in out
    assert main(["plan", "--profile", "smoke", "--throughput", str(path), "--set", "train.group_size=0"]) == 0
    assert "train.group_size 0: trainings run in populations" in capsys.readouterr().out
    assert main(["plan", "--profile", "no-such-profile"]) == 2
    assert "no-such-profile" in capsys.readouterr().err


def test_calibration_measures_this_machine(cfg):
    tp = calibration.calibrate(cfg, ["ba"], plan.task_shapes(cfg)[0], ["ba"])
    assert len(tp.points) == len(calibration.WIDTHS) and tp.mi_seconds_per_1000["ba"] > 0
    assert tp.problem_seconds_per_1000["ba"]["flat"] > 0 and tp.figure_seconds > 0 and tp.power_collection_seconds > 0
    assert len(tp.autobuild_seconds) == 2 and sum(tp.autobuild_seconds) > 0
    assert tp.points[0][1] < tp.points[-1][1]  # 120 filters cost more per image than 20
    assert tp.startup_seconds > 0 and len(tp.predictor_seconds) == 2 and sum(tp.predictor_seconds) > 0
    assert 1 <= tp.converge_epochs <= cfg.train.max_epochs  # trained to convergence on the profile's first task


def test_the_run_line_calibrates_once_and_reads_the_cache_after(tmp_path):
    cfg = config.load("smoke", output_dir=str(tmp_path))
    cache = tmp_path / "throughput.json"
    first = plan.total_line(cfg, cache)
    assert cache.exists() and first.startswith("plan: about ") and "01 " in first and "06 " in first
    stamp = cache.stat().st_mtime_ns
    assert plan.total_line(cfg, cache) == first and cache.stat().st_mtime_ns == stamp  # read back, not recalibrated
