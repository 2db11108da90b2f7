"""study: the thesis's experiments over data, nas and mi. The collection and its jobs (`collection`,
`jobs`), per-layer MI of trained networks (`layer_mi`), posterior prediction (`predict`) with its
statistics (`stats`), the signal budget of a run (`budget`: floor, G, s, G/s and the verdict's opening),
planted collections (`synthetic`, also calibrated to a run's measured floor and G) and the power they give
Experiment 1 (`power`), the AutoBuild-style importance model
(`autobuild`), the REINFORCE controller (`controller`), the analysis tables (`analysis`), and the
cost of a series before it runs (`plan`, priced by `throughput`).

May import: core, data, nas, mi.
"""
