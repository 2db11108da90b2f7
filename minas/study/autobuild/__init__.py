"""AutoBuild (Mills et al. 2024, CVPR) on the thesis collection (Kossmann 2019): the learned importance of each
(layer, filter option) and the architecture built from it (`model`), judged on the held-out tasks against the sum
of filters and the posterior predictors (`evaluation`). Everything public is re-exported here.
"""
from minas.study.autobuild.evaluation import Evaluation, evaluate, posterior_score, task_context, variants
from minas.study.autobuild.model import (
    ChainData,
    ChainImportance,
    build,
    chain_data,
    distribution,
    fit_temperature,
    node_importance,
    rank_loss,
    rank_pairs,
    span_importance,
    train_importance,
)

__all__ = ["ChainData", "ChainImportance", "Evaluation", "build", "chain_data", "distribution", "evaluate",
           "fit_temperature", "node_importance", "posterior_score", "rank_loss", "rank_pairs", "span_importance",
           "task_context", "train_importance", "variants"]
