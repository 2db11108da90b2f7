"""views: what a reader sees. Tables, figures, metrics and typed results written to (and read back from) the
outputs folder (`report`), every figure in one style (`plots`), the self-contained HTML report (`page`) and
ipywidgets explorers (`widgets`).

May import: core, data, nas, mi, study.
"""
