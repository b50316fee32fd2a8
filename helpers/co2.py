"""The monthly mean CO2 at Mauna Loa, March 1958 to June 2026 (bundled with the course): lesson 05.

Source: NOAA Global Monitoring Laboratory and Scripps Institution of Oceanography (Tans and
Keeling), as packaged by the datasets/co2-ppm project; public domain (ODC-PDDL-1.0).

Shapes (N = 820 months, in time order):
    load_co2()          DataFrame (N, 3): month (datetime64, the first day of the month),
                        ppm (float64, the monthly average), trend (float64, de-seasonalized)
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pandas as pd

from helpers.bundled import bundled_file, reinstall_hint, verified_bytes
from helpers.i18n import tr

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable  # Python 3.11+; only for the annotation

CO2_FILENAME = "co2_mauna_loa_monthly.csv"
CO2_SHA256 = "46c07e9423aa6ca0723bf6e892ba0ade1488ca6f7d3f14aa0cddd10272fbe59b"
#: The file's quirk: its header names six columns, but every row holds these seven values.
RAW_COLUMNS = ("month", "decimal_date", "ppm", "trend", "days", "days_std", "uncertainty")
CO2_MONTHS = 820


def bundled_co2() -> Traversable:
    """The copy of the series inside the ``helpers`` package: a wheel has it as a clone does."""
    return bundled_file(CO2_FILENAME)


def load_co2() -> pd.DataFrame:
    """The 820 months of the record, oldest first: ``month``, ``ppm`` and ``trend`` (see the
    module docstring), from the package's copy, its SHA-256 checked first. A missing
    (``FileNotFoundError``) or modified (``ValueError``) file stops with a message that says how
    to restore it.
    """
    source = bundled_co2()
    reinstall = reinstall_hint(CO2_FILENAME)
    if not source.is_file():
        raise FileNotFoundError(tr("The CO2 series was not found at {source}. It ships inside the "
                                   "course's package: {reinstall}.",
                                   source=source, reinstall=reinstall))
    data = verified_bytes(source, CO2_SHA256, reinstall)
    # header=0 with our own names: the file's header names six of the seven columns
    raw = pd.read_csv(io.BytesIO(data), header=0, names=list(RAW_COLUMNS), index_col=False)
    frame = pd.DataFrame({
        "month": pd.to_datetime(raw["month"], format="%Y-%m"),
        "ppm": raw["ppm"].astype("float64"),
        "trend": raw["trend"].astype("float64"),
    })
    return frame  # the checksum fixes the 820 rows, in time order, none missing

