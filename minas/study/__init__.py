"""study: the thesis's experiments over data, nas and mi. The collection and its jobs (`collection`,
`jobs`), per-layer MI of trained networks (`layer_mi`), posterior prediction (`predict`) with its
statistics (`stats`), planted collections (`synthetic`) and the power they give Experiment 1
(`power`), the AutoBuild-style importance model
(`autobuild`), the REINFORCE controller (`controller`) and the analysis tables (`analysis`).

May import: core, data, nas, mi.
"""
