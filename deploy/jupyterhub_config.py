# JupyterHub for a class on ONE machine (plain JupyterHub; The Littlest JupyterHub sets the same
# things with tljh-config, see deploy/README.md). make hub-test loads this file and replaces only the
# login (dummy), the spawner (local processes), the addresses and the idle culler.
#
# On the class machine (Ubuntu, as root), the course in /srv/torch-core-models:
#   python3 -m venv /opt/course && /opt/course/bin/pip install -r requirements.txt -r deploy/requirements-hub.txt \
#       jupyterhub-systemdspawner jupyterhub-nativeauthenticator jupyterhub-idle-culler && \
#       /opt/course/bin/pip install --no-deps .
#   npm install -g configurable-http-proxy
#   mkdir -p /srv/course-data/MNIST/raw && cp <the four MNIST idx files> /srv/course-data/MNIST/raw/
#   /opt/course/bin/jupyterhub -f deploy/jupyterhub_config.py      (behind HTTPS: see deploy/README.md)
#
# The per-student numbers below come from `make measure` (README, "A class on JupyterHub").
import os
import sys

c = get_config()  # noqa: F821  (JupyterHub provides get_config)

# Students sign up and the instructor approves them at /hub/authorize (NativeAuthenticator).
c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"
c.Authenticator.admin_users = {os.environ.get("COURSE_HUB_ADMIN", "instructor")}
c.JupyterHub.bind_url = "http://:8000"

# Every student's server is a systemd unit with hard limits, a Linux user of its own.
c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
c.SystemdSpawner.dynamic_users = True
c.Spawner.default_url = "/lab"
# The environment that runs the servers and the kernels: the one this hub runs from (/opt/course).
c.Spawner.cmd = [os.path.join(os.path.dirname(sys.executable), "jupyterhub-singleuser")]

# Measured (make measure, make hub-test; README "A class on JupyterHub"): a kernel's peak RSS (VmHWM) after
# Run All is 0.96-0.98 GiB for lesson 04 (MNIST as uint8), 1.05 GiB after a second Run All, and 0.76 GiB for
# lessons 01-03; a student's server adds 0.16 GiB. Each kernel runs one thread: 4-31 CPU seconds per Run All.
c.Spawner.mem_guarantee = "1.5G"  # lesson 04 with the server (1.1-1.2 GiB) and room: RAM = students x 1.5G
c.Spawner.mem_limit = "3G"  # a runaway cell stops here, not the machine
c.Spawner.cpu_guarantee = 0.5  # two students per core: lesson 04's 31 CPU s still run in about a minute
c.Spawner.cpu_limit = 1.0  # the lessons run one thread: more than a core only helps a runaway cell

# A busy machine can take longer than the default 30 s to start a server.
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180

c.Spawner.environment = {
    # MNIST pre-seeded once for everyone, read-only: no student downloads it (and no internet is needed).
    "COURSE_DATA_DIR": os.environ.get("COURSE_HUB_DATA_DIR", "/srv/course-data"),
    "COURSE_PROGRESS": "1",  # progress bars as widgets, as with make lab
    "OMP_NUM_THREADS": "1",  # the course's models are tiny: one thread per kernel (as setup_notebook does)
}

# Stop servers idle for an hour, so memory goes back to the students who are working.
c.JupyterHub.load_roles = [
    {"name": "idle-culler", "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
     "services": ["idle-culler"]},
]
c.JupyterHub.services = [
    {"name": "idle-culler", "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"]},
]
