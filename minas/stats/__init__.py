"""stats: the study's statistics as pure functions over arrays, readable and testable alone.

Intervals over independent sources (`intervals`: t intervals, source means, crossed
source x seed intervals, Clopper-Pearson), paired tests (bootstrap over groups, sign flips), and
`variance`: one-way random-effects tau^2 / sigma^2 with an interval over clusters and a permutation null
(the question's gate: is there anything between groups to predict?).
Nothing here knows what a task, a network or a predictor is: callers pass arrays and groups.

May import: core (seeding only). Never torch, never the study.
"""
from minas.stats.intervals import (
    PairedTest,
    TaskTest,
    binomial_interval,
    cluster_means,
    crossed_interval,
    mean_interval,
    paired_test,
    signflip_p,
    task_test,
)
from minas.stats.variance import VarianceComponents, variance_components

__all__ = ["PairedTest", "TaskTest", "binomial_interval", "cluster_means", "crossed_interval", "mean_interval",
           "paired_test", "signflip_p", "task_test", "VarianceComponents", "variance_components"]
