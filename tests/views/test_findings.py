"""minas.views.findings and minas.views.answer: one interval format, and the sentences of notebooks 04-06 and the
report, checked on results built by the study's own functions on tiny inputs (a planted collection, the toy
controller world) or by the typed constructors."""
import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

import minas
from minas.core.store import Store
from minas.study import analysis, autobuild, predict
from minas.study import controller as ctl
from minas.study.controller import toy
from minas.study.ranking import COLUMNS, SIZE
from minas.stats import binomial_interval
from minas.study.predict.synthetic import synthetic_collected
from minas.views import answer, findings, report
from minas.views.findings import Difference, ci, estimate, num


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Experiment 1, its leave-one-source-out and AutoBuild on a planted collection of 6 tasks."""
    out = tmp_path_factory.mktemp("findings")
    cfg = minas.load("smoke", output_dir=str(out), **{"predict.epochs": 2, "predict.seeds": 2, "mi.signals": ["mine_fast", "ba"]})
    col = synthetic_collected(n_train=4, n_test=2, n_samples=3)
    exp = predict.run_experiment(cfg, col)
    cv = predict.run_cross_validation(cfg, col, {t: t for t in col.samples.task.unique()}, seeds=1, epochs=2)
    ev = autobuild.evaluate(cfg, col, exp, epochs=3)
    return cfg, col, exp, cv, ev


@pytest.fixture(scope="module")
def controller(tmp_path_factory):
    """Both experiments of the controller, 3 iterations each on the toy world, and their evaluation runs."""
    cfg = minas.load("smoke", output_dir=str(tmp_path_factory.mktemp("ctl")), **{"controller.iterations": 3})
    env = toy.toy_environment(cfg, n_tasks=4)
    store = Store(cfg.out / "s.sqlite")
    runs = {(e, 0): ctl.train_controller(cfg, store, env, e) for e in ctl.EXPERIMENTS}
    return runs, ctl.evaluate_runs(env, runs, env.train_tasks + env.test_tasks, 2)


def _analysis(study, controller) -> answer.Analysis:
    cfg, col, exp, cv, ev = study
    archs = analysis.measured_archs(col, cfg.hyperband.lam)
    evals = controller[1]
    return answer.Analysis(exp, cv, None, ctl.table_3_2(evals), ctl.compare_to_uniform(evals),
                           analysis.signal_value(exp), analysis.layer_correlations(archs, sorted(col.signals), n_boot=50),
                           analysis.depth_trend(archs, sorted(col.signals)), analysis.importance_summary(ev.importances))


def _power(detected: bool, n_tasks: int = 6, reps: int = 40) -> pd.DataFrame:
    """A power.own_power table: hits of 40 planted collections per strength, Clopper-Pearson intervals."""
    rows = []
    for strength, hits, called in ((0.0, 1, 2), (1.0, 36 if detected else 10, 36 if detected else 11)):
        rows.append({"strength": strength, "effect": -3e-5 * strength, "effect_sd": 1e-5, "power": hits / reps,
                     **dict(zip(("power_low", "power_high"), binomial_interval(hits, reps))), "rejected": called / reps,
                     **dict(zip(("rejected_low", "rejected_high"), binomial_interval(called, reps))),
                     "n_tasks": n_tasks, "n_sources": n_tasks, "reps": reps, "gain": 4e-5, "gain_measured": 4e-5})
    return pd.DataFrame(rows)


def test_one_interval_format():
    assert ci(-0.003, 0.0012) == "95% CI [-0.003, 0.0012]"
    assert ci(-0.003, 0.0012, signed=True) == "95% CI [-0.003, +0.0012]"
    assert ci(0.123456, 0.5, digits=3) == "95% CI [0.123, 0.5]"
    assert ci(float("nan"), 1.0) == ci(0.1, None) == "no 95% CI"  # one unit: no interval, never 'nan'
    assert estimate(0.5, 0.25, 0.75) == "0.5 (95% CI [0.25, 0.75])"
    assert num(float("inf")) == "n/a" and num(2.5e-5, signed=True) == "+2.5e-05"
    assert findings.signal_name("ba", 2) == "ba layer 2" and findings.signal_name("params", 0) == "params"
    assert findings.signal_name("sum_filters", pd.NA) == "sum_filters"
    assert findings.bullets(["a", "b"]) == "- a\n- b"


def test_a_difference_reads_its_row_and_is_judged_by_its_interval(study):
    comparisons = study[2].comparisons
    for r in comparisons.itertuples():
        d = Difference.of(comparisons, r.a, r.b)
        assert (d.mean_diff, d.ci_low, d.ci_high, d.n_tasks) == (r.mean_diff, r.ci_low, r.ci_high, r.n_tasks)
        assert f"{r.mean_diff:+.2g} (95% CI [{r.ci_low:+.2g}, {r.ci_high:+.2g}])" in d.text()
        n, tasks = r.n_sources, f" ({r.n_tasks} tasks; at" if r.n_sources != r.n_tasks else " (at"
        assert f"over {n} sources{tasks} best {2 / 2 ** n:.2g})" in d.text()  # the p-value's floor is its units'
        expected = "lower (better) than" if r.ci_high < 0 else "higher (worse) than" if r.ci_low > 0 else "not distinguishable from"
        assert d.relation == expected and d.sentence().endswith(f"{r.a}'s error is {expected} {r.b}'s.")
    better = Difference("NN + MI", "Uniform", -2e-5, -3e-5, -1e-5, 0.03, 6)
    assert better.sentence() == ("NN + MI minus Uniform: -2e-05 (95% CI [-3e-05, -1e-05]), sign-flip p 0.03 over 6 tasks "
                                 "(at best 0.031): NN + MI's error is lower (better) than Uniform's.")
    three = Difference("NN + MI", "Uniform", -2e-5, -3e-5, -1e-5, 0.25, 6, 3)
    assert "sign-flip p 0.25 over 3 sources (6 tasks; at best 0.25)" in three.text()
    with pytest.raises(KeyError, match=re.escape("no comparison 'NN + MI' minus 'Oracle'")):
        Difference.of(comparisons, "NN + MI", "Oracle")


def test_experiment1_and_crossval_findings(study):
    _, _, exp, cv, _ = study
    t = exp.table.set_index("method")
    lines = findings.experiment1_findings(exp)
    assert lines[0].startswith(f"Test MSE: NN + MI {t.loc['NN + MI', 'test_mse_mean']:.3g}, NN + accuracy ")
    assert "clean-target noise" in lines[0]
    acc = Difference.of(exp.comparisons, "NN + MI", "NN + accuracy")
    assert lines[1] == acc.sentence() and lines[2].endswith("(thesis: the Gaussian was better).")
    assert len(lines) == 5 and lines[3].startswith("Like for like, NN + MI (raw) minus NN + accuracy: ")
    # a comparison whose whole interval is below 0 is said to be better
    moved = exp.comparisons.copy()
    moved.loc[(moved.a == "NN + MI") & (moved.b == "NN + accuracy"), ["ci_low", "ci_high"]] = [-2.0, -1.0]
    assert "lower (better) than NN + accuracy's" in findings.experiment1_findings(dataclasses.replace(exp, comparisons=moved))[1]

    cvl = findings.crossval_findings(cv, exp)
    assert len(cvl) == len(cv.comparisons) + 2 and cvl[-2] == f"Folds: {len(cv.folds)} scored, 0 skipped (a held-out task with too few posteriors)."
    cvd = Difference.of(cv.comparisons, "NN + MI", "NN + accuracy")
    assert cvl[-1].endswith(f"{acc.mean_diff:+.2g} ({acc.n_tasks} tasks) vs {cvd.mean_diff:+.2g} ({cvd.n_tasks} tasks).")
    folds = cv.folds.assign(skipped=["too few posteriors"] + [""] * (len(cv.folds) - 1))
    assert findings.crossval_findings(dataclasses.replace(cv, folds=folds), exp)[-2].endswith(
        f"1 skipped (a held-out task with too few posteriors): {folds.family.iloc[0]}.")


def test_autobuild_findings(study):
    ev = study[4]
    s = ev.summary.set_index("method")
    lines = findings.autobuild_findings(ev)
    assert lines[0].startswith(f"Best within-instance ranking on held-out tasks: {s.spearman.idxmax()} (Spearman {s.spearman.max():.2f})")
    assert f"chance {s.chance_overlap.iloc[0]:.2f}" in lines[1] and "smallest net" in lines[2]


def test_controller_findings_on_the_toy_world(controller):
    runs, evals = controller
    run0 = {e: r for (e, s), r in runs.items()}
    table, paired, by_run = ctl.table_3_2(evals), ctl.compare_to_uniform(evals), ctl.seed_table(evals)
    collapse = ctl.collapse_table(run0)
    lines = findings.controller_findings(table, paired, by_run, run0, collapse, collapse)
    uni = table.set_index(["split", "prior"]).loc[("train", "uniform")]
    assert lines[0].startswith(f"Training data sets (4): uniform {uni['mean']:.3f} ± {uni.within_task_std:.3f} (sem {uni['sem']:.3f}), Exp 1 ")
    assert "thesis: 0.504 ± 0.014" in lines[0] and lines[1].startswith("Held-out data sets: uniform ")
    e2 = paired.set_index(["split", "prior"]).loc[("train", "exp2")]
    assert (f"exp2: beats uniform on {int(e2.wins)} of 4 training data sets, mean difference "
            f"{estimate(e2.diff_mean, e2.ci_low, e2.ci_high, 3, signed=True)}") in lines[4]
    assert "exp1 over 1 controller runs" in lines[5] and "no 95% CI" in lines[5] and "(one run: no interval)" in lines[5]
    assert lines[8].startswith("exp1 (run 0) after 3 iterations: layer entropies [") and "not collapsed" in lines[8]
    assert lines[-1] == "Collapsed controller runs: 0 of 2." and len(lines) == 11
    assert not any("nan" in line for line in lines)


def test_verdict_states_effects_with_their_intervals(study, controller):
    a = _analysis(study, controller)
    comparisons = pd.DataFrame({"a": ["NN + MI"] * 3, "b": ["NN + accuracy", "Fitted Gaussian", "NN + accuracy"],
                                "unit": ["test pair (seed mean)", "test pair (seed mean)", "seed (mean test MSE)"],
                                "mean_diff": [0.004, -0.002, 9.0], "ci_low": [-0.001, -0.003, 8.0], "ci_high": [0.009, -0.001, 10.0],
                                "p_signflip": 0.5, "n_tasks": 4})
    vs_uniform = pd.DataFrame({"split": ["train", "train", "test"], "prior": ["exp1", "exp2", "exp1"],
                               "diff_mean": [0.012, -0.03, 0.5], "ci_low": [-0.01, -0.05, 0.4], "ci_high": [0.03, -0.01, 0.6],
                               "n_tasks": [5, 5, 2]})
    corr = pd.DataFrame({"method": ["ba", "ba"], "layer": pd.array([1, 2], dtype="Int64"), "target": ["hs", "hs | size"],
                         "rho": [0.3, -0.6], "ci_low": [0.1, -0.8], "ci_high": [0.5, -0.4]})
    a = dataclasses.replace(a, exp=dataclasses.replace(a.exp, comparisons=comparisons), vs_uniform=vs_uniform, correlations=corr)
    lead, s1, s2, s3, last = answer.verdict(a, _power(True))
    assert lead.startswith(("First:", "A perfect per-layer signal", "The signal budget")) and "independent source" in lead
    n_pairs, n_tasks = len(a.exp.test), len(np.unique(a.exp.test.task))
    assert s1.startswith("This run finds no evidence")  # the accuracy CI straddles 0
    assert "+0.004 (95% CI [-0.001, +0.009])" in s1 and "-0.002 (95% CI [-0.003, -0.001])" in s1
    assert f"{n_pairs} held-out pairs of {n_tasks} data sets" in s1
    assert "+0.012 (95% CI [-0.01, +0.03]; thesis +0.002)" in s2 and "-0.03 (95% CI [-0.05, -0.01]; thesis -0.041)" in s2 and "5 training" in s2
    assert "1 of 1 per-layer correlations" in s3 and "1 of 1 once" in s3 and "ba at layer 2 with hs, partial rho -0.6 (95% CI [-0.8, -0.4])" in s3
    assert "power 0.9 (95% CI [0.76, 0.97])" in last and "a negative result" in last and "absence" not in last
    undetected = answer.verdict(a, _power(False))
    assert len(undetected) == 5 and "6 independent sources" in undetected[4] and "absence of evidence" in undetected[4]
    assert "power 0.25 (95% CI [0.13, 0.41]) only (target 0.8)" in undetected[4]
    comparisons.loc[0, ["ci_low", "ci_high"]] = [-0.01, -0.001]
    assert answer.verdict(a, _power(True))[1].startswith("Per-layer MI helps")


def test_headline_and_conclusions_on_real_results(study, controller):
    a = _analysis(study, controller)
    h = answer.headline(a)
    row = a.exp.comparisons.set_index(["a", "b"]).loc[("NN + MI", "NN + accuracy")]
    assert h["mi_minus_accuracy"] == row.mean_diff and h["mi_minus_accuracy_ci"] == [row.ci_low, row.ci_high]
    assert h["best_signal"] == a.signal_value.method.iloc[0] and set(h["hs_train"]) == {"uniform", "exp1", "exp2"}
    assert h["test_mse"]["NN + MI"] == a.exp.table.set_index("method").test_mse_mean["NN + MI"]
    notes = answer.conclusions(a, "ranking.", "reliability.", "power.")
    assert len(notes) == 13 and notes[9:12] == ["ranking.", "reliability.", "power."]
    assert notes[0].startswith("Table 3.1 (thesis scale): NN + MI ") and "(thesis: 7.38e-05, 7.58e-05, 6.7e-05, 8.13e-05)" in notes[0]
    assert Difference.of(a.exp.comparisons, "NN + MI", "NN + accuracy").text() in notes[1]
    assert notes[3].startswith("Cross-validated (leave-one-source-out: 6 folds, NNs 1 seed x 2 epochs per fold): NN + MI minus ")
    assert notes[-1].startswith("AutoBuild, Spearman of importance with filter count per layer: layer 1 ")
    assert not any(" nan" in n for n in notes)


def test_ranking_sentence_names_the_best_proxy_and_the_anchor():
    rows = [["synflow", 0, "accuracy", 5, 3, 40, 0.5, 0.4, 0.6, 0.85, 0.8, 0.9, 0.01],  # 5 tasks from 3 sources
            ["mine_fast", 2, "accuracy", 5, 3, 40, 0.1, 0.0, 0.2, 0.2, -0.1, 0.5, 3.0],
            [SIZE, 0, "accuracy", 5, 3, 40, 0.3, 0.2, 0.4, 0.4, 0.3, 0.5, 0.0],
            ["synflow", 0, "hs", 5, 3, 40, 0.9, 0.8, 1.0, 0.95, 0.9, 1.0, 0.01]]
    agree = pd.DataFrame(rows, columns=COLUMNS)
    r = answer.ranking_finding(agree)
    assert r.best_proxy_rho == 0.85
    assert r.sentence.startswith("Best training-free proxy: synflow 0.85 (95% CI [0.8, 0.9]) over 5 tasks, above the NAS-Bench-201")
    assert "best trained signal (MI or probe): mine_fast layer 2 0.2 (95% CI [-0.1, 0.5]) over 5 tasks" in r.sentence
    assert "the total filter count alone: sum_filters 0.4 (95% CI [0.3, 0.5]) over 5 tasks (40 architectures" in r.sentence
    none = answer.ranking_finding(agree[agree.method != "synflow"])
    assert none.best_proxy_rho is None and none.sentence.startswith("No training-free proxy was collected; ")


def test_reliability_names_the_cells_that_cannot_rank(tmp_path):
    icc = pd.DataFrame({"task": "mnist", "method": ["ba", "ba", "target: accuracy"], "layer": [1, 2, 0],
                        "icc3": [0.1, 0.7, 0.6], "icc3_low": [-0.2, 0.4, 0.3], "icc3_high": [0.4, 0.9, 0.8],
                        "n_archs": 6, "n_seeds": 3})
    cfg = minas.load("smoke", output_dir=str(tmp_path))
    assert answer.recorded_target_icc(cfg).empty  # notebook 01 has not run here
    signal = pd.DataFrame({"task": "mnist", "value": "accuracy", "epochs": [2, 8], "icc3": [0.2, 0.55],
                           "icc3_low": [0.0, 0.25], "icc3_high": [0.4, 0.75]})
    report.record_metrics(cfg, "01_data_prep", {"architecture_signal": signal})
    recorded = answer.recorded_target_icc(cfg)
    assert recorded.epochs.tolist() == [8]  # the last budget only
    r = answer.reliability_finding(icc, recorded, ["mnist"])
    assert r.unreliable == ["ba L1"]
    assert r.sentence == ("Test-retest (ICC(3,1), 6 architectures x 3 seeds on mnist): 1 of 2 (signal, layer) cells have a CI "
                          "covering 0 and are unable to predict anything there (ba L1). Targets here: accuracy 0.6 "
                          "(95% CI [0.3, 0.8]); notebook 01 recorded: mnist accuracy 0.55 (95% CI [0.25, 0.75]).")
    empty = answer.reliability_finding(pd.DataFrame(), recorded.iloc[:0], [])
    assert empty.unreliable == [] and "0 of 0 (signal, layer) cells" in empty.sentence and "on no task" in empty.sentence
    assert empty.sentence.endswith("notebook 01 recorded none.")


def test_power_sentence_sets_what_was_seen_beside_what_could_be_seen(study, tmp_path):
    _, _, exp, _, _ = study
    own = _power(False, 2)
    text = answer.power_finding(own, exp)
    assert text.startswith("In 40 planted collections with this run's G and floor, 2 held-out tasks from 2 independent sources")
    assert "perfect per-layer signal is detected with power 0.25 (95% CI [0.13, 0.41])" in text
    assert text.endswith(f"Experiment 1 saw NN + MI minus NN + arch only {Difference.of(exp.comparisons, 'NN + MI', 'NN + arch only').text()}.")
    assert "nan" not in text
    cfg = minas.load("smoke", output_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="run notebook 04_posterior_prediction first"):
        answer.own_power(cfg)
    report.record_metrics(cfg, "04_posterior_prediction", {"own_power": own})  # what notebook 04 records, read back
    pd.testing.assert_frame_equal(answer.own_power(cfg)[own.columns], own, check_dtype=False)


def test_the_lead_is_one_plain_sentence_per_finding_and_a_table_of_its_numbers(study, controller):
    from minas.views import lead

    a = _analysis(study, controller)
    comparisons = pd.DataFrame({"a": ["NN + MI", "NN + MI", "NN + noise"], "b": ["NN + accuracy", "Fitted Gaussian", "NN + arch only"],
                                "unit": "test pair (seed mean)", "mean_diff": [0.004, -0.002, 0.00123456],
                                "ci_low": [-0.001, -0.003, 0.0001], "ci_high": [0.009, -0.001, 0.002], "p_signflip": 0.5,
                                "n_tasks": 4, "n_sources": 3})
    vs_uniform = pd.DataFrame({"split": ["train", "train", "test"], "prior": ["exp1", "exp2", "exp1"],
                               "diff_mean": [0.012, -0.03, 0.5], "ci_low": [-0.01, -0.05, 0.4], "ci_high": [0.03, -0.01, 0.6],
                               "n_tasks": [5, 5, 2], "n_sources": [4, 4, 2]})
    corr = pd.DataFrame({"method": ["ba", "ba"], "layer": pd.array([1, 2], dtype="Int64"), "target": ["hs", "hs | size"],
                         "rho": [0.3, -0.6], "ci_low": [0.1, -0.8], "ci_high": [0.5, -0.4]})
    a = dataclasses.replace(a, exp=dataclasses.replace(a.exp, comparisons=comparisons), vs_uniform=vs_uniform, correlations=corr)
    ld = lead.lead(a, _power(False))
    has_budget = not a.exp.task_noise.empty
    assert len(ld.sentences) == 4 + has_budget and not any(re.search(r"\d", s) for s in ld.sentences)  # plain: no number
    exp1, exp2, within, power = ld.sentences[has_budget:]
    assert exp1 == "Per-layer MI does not measurably help predict which filter counts Hyperband keeps."
    assert exp2 == "A controller's learned prior does worse than the uniform prior."  # exp1's CI straddles 0, exp2's lies below
    assert within.startswith("Within one data set, some per-layer signals rank") and "absence of evidence" in power
    t = ld.table.set_index("quantity")
    assert list(ld.table.columns) == ["finding", "quantity", "value", "95% CI", "sources"]
    assert t.loc["NN + MI minus NN + accuracy"].tolist() == [1 + has_budget, "+0.004", "[-0.001, +0.009]", "3"]
    assert t.loc["NN + noise minus NN + arch only", "value"] == "+0.00123"  # 3 significant digits
    assert t.loc["Exp 2 minus uniform (mean score of Hyperband's output)"].tolist()[1:] == ["-0.03", "[-0.05, -0.01]", "4"]
    assert t.loc["largest: ba layer 2 with hs (partial rho)", "95% CI"] == "[-0.8, -0.4]"
    assert t.loc["power to detect a perfect per-layer signal (target 0.8)"].tolist()[1:] == ["0.25", "[0.127, 0.412]", "6"]
    assert (ld.table != "").any().all()  # no empty column
    text = lead.markdown(ld)
    assert text.count("\n| ") == len(ld.table) + 1 and text.strip().endswith(lead.UNIT)
    assert "negative result" in lead.lead(a, _power(True)).sentences[-1]


def test_notebook_04s_gate_leads_the_answer_and_a_shut_gate_makes_no_claim(study, controller):
    """06 reads 04's saved gate table: a shut gate opens the verdict with 'nothing task-specific', an open one not."""
    from minas.study.predict import gate, synthetic
    from minas.views import lead

    a = _analysis(study, controller)
    worlds = {}
    for name, gain in (("shut", 0.0), ("open", 5e-4)):
        col = synthetic.calibrated_collected(12, 8, 6, 5, 5, floor=1e-3, gain=gain, strength=1.0, seed=1, tasks_per_source=2)
        sources = col.samples.groupby("task").source.first().to_dict()
        worlds[name] = gate.gate_table(col.posteriors, sources, n_boot=300, n_perm=300)
    assert not gate.gate_open(worlds["shut"]) and gate.gate_open(worlds["open"])
    shut = lead.lead(dataclasses.replace(a, gate=worlds["shut"]), _power(False))
    assert shut.sentences[0].startswith("The target does not measurably differ between data sets")
    ratio = shut.table.set_index("quantity").loc["tau^2 / sigma^2, per layer (between / within data sets)"]
    assert ratio.finding == 1 and ratio.sources == "10" and ratio["95% CI"].startswith("[")
    opened = lead.lead(dataclasses.replace(a, gate=worlds["open"]), _power(False))
    assert opened.sentences[0] == "The target differs between data sets: there is something task-specific to predict."
    if not a.exp.task_noise.empty:  # the dense verdict is gated the same way
        assert answer.verdict(dataclasses.replace(a, gate=worlds["shut"]), _power(False))[0].startswith(
            "First: there is nothing task-specific to predict in this design.")
    assert answer.verdict(a, _power(False))[0] == answer.verdict(dataclasses.replace(a, gate=None), _power(False))[0]
