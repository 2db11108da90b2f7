"""minas.views.inputs: notebooks 04 and 06 open the collection through one function, which names what to run."""
import pytest
import torch

import minas
from minas.study.predict.synthetic import synthetic_collected
from minas.views import inputs


def test_counts_per_split():
    col = synthetic_collected(n_train=4, n_test=2, n_samples=3)
    c = inputs.counts(col)
    assert c.loc["train"].tolist() == [4, 12] and c.loc["test"].tolist() == [2, 6]


def test_an_empty_store_names_the_notebooks_to_run(tmp_path):
    cfg = minas.load("smoke", output_dir=str(tmp_path))
    torch.set_num_threads(2)
    with pytest.raises(RuntimeError, match=r"run notebook\(s\) 03,04,05 first .*--profile smoke --only 03,04,05"):
        inputs.open_collection(cfg, run_first="03,04,05")
    assert torch.get_num_threads() == 1
