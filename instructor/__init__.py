"""instructor: the tools that run, measure and check the course; students never need them.

    run    batch runs with papermill: every notebook into build/, summary.json and summary.md
           (``make run``; ``python -m instructor.run --help``)
    bench  the source's MNIST pipeline against the in-memory one, and the matmul roofline
           (``make bench``; ``python -m instructor.bench --help``)

The browser test (``make e2e``) is a pytest module, tests/test_e2e.py.

They run from a clone (the wheel carries only ``helpers``); their dependencies (papermill, nbformat,
nbconvert, pyyaml) are in requirements-dev.txt, which ``make test`` installs. The notebooks import
only ``helpers``.
"""
