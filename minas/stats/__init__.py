"""stats: the study's statistics as pure functions over arrays, readable and testable alone.

Intervals over independent sources (`intervals`: t intervals, source means, crossed
source x seed intervals, Clopper-Pearson), paired tests (bootstrap over groups, sign flips).
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

__all__ = ["PairedTest", "TaskTest", "binomial_interval", "cluster_means", "crossed_interval", "mean_interval",
           "paired_test", "signflip_p", "task_test"]
