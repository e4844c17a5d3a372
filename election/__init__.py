"""The election as configuration: which election, when, where (a TOML profile, validated).

The bottom layer: messages, the scheduler and the domain all read the profile; it reads nothing
of theirs.
"""

from election.profile import (
    DEFAULT_PROFILE,
    ElectionProfile,
    ProfileError,
    load_profile,
)

__all__ = ["DEFAULT_PROFILE", "ElectionProfile", "ProfileError", "load_profile"]
