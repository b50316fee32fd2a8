"""instructor: the tools that run, measure and check the course; students never need them.

    run    batch runs with papermill: every notebook into build/, summary.json and summary.md
           (``make run``; ``python -m instructor.run --help``)
    bench  the source's MNIST pipeline against the in-memory one, and the matmul roofline
           (``make bench``; ``python -m instructor.bench --help``)
    e2e    Run All in JupyterLab in headless Chromium (``make e2e``)

Their extra dependencies (papermill, nbformat, nbconvert, pyyaml, selenium) are the ``instructor``
extra of pyproject.toml, which requirements.txt installs. The notebooks import only ``helpers``.
"""
