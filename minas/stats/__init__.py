"""stats: the study's statistics as pure functions over arrays, readable and testable alone.

Intervals over independent sources (`intervals`: t intervals, source means, crossed
source x seed intervals, Clopper-Pearson), paired tests (bootstrap over groups, sign flips), and
`variance`: one-way random-effects tau^2 / sigma^2 with an interval over clusters and a permutation null
(the question's gate: is there anything between groups to predict?); `refit`: a permutation test that
refits under every shuffle (the fit's noise in the null); `power`: the effect a t-test sees at its own df;
`multiple`: Holm's correction of a named family.
Nothing here knows what a task, a network or a predictor is: callers pass arrays and groups.

May import: core (seeding only). Never torch, never the study.
"""
from minas.stats.intervals import (
    PairedTest,
    TaskTest,
    binomial_interval,
    cluster_means,
    crossed_interval,
    crossed_test,
    mean_interval,
    paired_test,
    signflip_p,
    task_test,
)
from minas.stats.multiple import holm
from minas.stats.power import needed_effect
from minas.stats.refit import RefitTest, refit_permutation_test, shuffles
from minas.stats.variance import VarianceComponents, variance_components

__all__ = ["PairedTest", "TaskTest", "binomial_interval", "cluster_means", "crossed_interval", "crossed_test", "mean_interval",
           "paired_test", "signflip_p", "task_test", "VarianceComponents", "variance_components",
           "holm", "needed_effect", "RefitTest", "refit_permutation_test", "shuffles"]
