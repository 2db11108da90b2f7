"""study: the thesis's experiments over data, nas and mi. The collection and its jobs (`collection`,
`jobs`), per-layer MI of trained networks (`layer_mi`), posterior prediction (`predict`: Experiment 1
with its signal budget, planted collections and the power they give), the AutoBuild-style importance
model (`autobuild`), the REINFORCE controller (`controller`), the ICC designs (`target`), signals
against final scores (`ranking`), the store's invariants (`checks`) and the analysis tables
(`analysis`). Its statistics live in `minas.stats`; what a series costs, in `minas.cost`.

May import: core, stats, data, nas, mi.
"""
