"""minas.views.tables: a notebook's view of a table (few columns, 3 significant digits, intervals merged, no empty
column, the shared unit said once)."""
import numpy as np
import pandas as pd

from minas.views.tables import readable


def test_a_comparison_table_reads_in_a_few_columns():
    raw = pd.DataFrame({"a": ["NN + MI", "NN + noise"], "b": ["NN + accuracy", "NN + arch only"],
                        "unit": ["test pair (seed mean)"] * 2, "mean_diff": [0.000971, -9.66e-4],
                        "ci_low": [-0.00123456, -0.002], "ci_high": [0.0031, np.nan], "n_sources": [3, 3],
                        "train_std": [np.nan, np.nan]})
    view, note = readable(raw)
    assert list(view.columns) == ["a", "b", "mean_diff", "95% CI", "n_sources"]  # train_std was empty, unit shared
    assert note == "unit: test pair (seed mean)"
    assert view.mean_diff.tolist() == ["0.000971", "-0.000966"]  # one notation, 3 significant digits
    assert view["95% CI"].tolist() == ["[-0.00123, 0.0031]", ""]  # a missing bound: no interval, never "nan"
    assert view.n_sources.tolist() == ["3", "3"]  # counts stay whole and stay in the table


def test_columns_pick_and_order_and_rename():
    raw = pd.DataFrame({"method": ["Uniform", "NN + MI"], "test_mse": [1.2345e-3, 9.87654e-4], "ci_low": [1e-3, 9e-4],
                        "ci_high": [1.5e-3, 1.1e-3], "group": ["baseline", "thesis"], "n_tasks": [6, 6]})
    view, note = readable(raw, columns=["method", "test_mse", "ci_low", "ci_high"], rename={"test_mse": "test MSE"})
    assert list(view.columns) == ["method", "test MSE", "95% CI"] and note == ""
    assert view.iloc[0].tolist() == ["Uniform", "0.00123", "[0.001, 0.0015]"]
    assert raw.shape == (2, 6)  # the full table is untouched (it is what tables/ keeps)
