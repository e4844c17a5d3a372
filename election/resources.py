"""The data files the package ships (map, election profiles, timelines), found through
`importlib.resources` so they work from a checkout and from an installed wheel alike.

Every one of them is only a default: the settings (`REGIONS_FILE`, `ELECTION_PROFILE`,
`TIMELINE_FILE`) point at the operator's own files.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DEFAULT_ELECTION = "pilkada-2024-kota-malang"


def shipped(*parts: str) -> Path:
    """The path of a shipped data file, e.g. shipped("elections", "pilkada-2024-….toml").

    The package is installed as plain files (never zipped), so the resource is a real path.
    """
    resource = files("election.data").joinpath(*parts)
    path = Path(str(resource))
    if not path.exists():
        raise FileNotFoundError(f"shipped data file {'/'.join(parts)} is missing from the package")
    return path


def shipped_regions() -> Path:
    return shipped("kota-malang-wilayah.csv")


def shipped_profile() -> Path:
    return shipped("elections", f"{DEFAULT_ELECTION}.toml")


def shipped_timeline() -> Path:
    return shipped("timelines", f"{DEFAULT_ELECTION}.toml")


def shipped_agendas() -> Path:
    """The folder of agendas the package ships (kerja bakti, DBD 3M Plus, …)."""
    return shipped("agendas")
