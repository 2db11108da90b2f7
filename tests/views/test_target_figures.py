import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

from minas.views.target import signal_icc_figure  # noqa: E402


def test_signal_icc_figure_draws_every_signal_layer_and_marks_targets():
    icc = pd.DataFrame({"task": "t", "method": ["ba", "ba", "target: accuracy"], "layer": [1, 2, 0],
                        "icc3": [0.1, 0.6, 0.8], "icc3_low": [-0.2, 0.3, 0.6], "icc3_high": [0.4, 0.8, 0.9],
                        "n_archs": 4, "n_seeds": 3})
    fig = signal_icc_figure(icc)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["ba L1", "ba L2", "target: accuracy"]
    assert "ICC" in ax.get_xlabel() and "4 architectures x 3 seeds" in ax.get_title()
    colors = ax.collections[-1].get_facecolors()
    assert colors[2][0] > colors[0][0]  # the target in red, signals in blue
