"""instructor: the tools that run, measure and check the course; students never need them.

    run    batch runs with papermill: every notebook into build/, summary.json and summary.md
           (``make run``; ``python -m instructor.run --help``)
    bench  the source's MNIST pipeline against the in-memory one, and the matmul roofline
           (``make bench``; ``python -m instructor.bench --help``)

The browser test (``make e2e``) is a pytest module, tests/test_e2e.py.

Their extra dependencies (papermill, nbformat, nbconvert, pyyaml) are the ``instructor``
extra of pyproject.toml, which requirements.txt installs. The notebooks import only ``helpers``.
"""
