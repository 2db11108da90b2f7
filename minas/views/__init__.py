"""views: what a reader sees. Tables, figures, metrics and typed results written to (and read back from) the
outputs folder (`report`), a notebook's expensive calls computed once and read back on rerun (`memo`), every
figure in one style (`plots`, drawn in `style`; the controller's in `controller_figures`), the findings in words
with one interval format (`findings`: notebooks 04 and 05 and the display names; `answer`: notebook 06's verdict
and findings list; `lead`: the answer as one plain sentence per finding and a table of its numbers), the
collection as notebooks 04 and 06 open it (`inputs`), the self-contained HTML report (`page`) and ipywidgets
explorers (`widgets`).

May import: core, stats, data, nas, mi, study.
"""
