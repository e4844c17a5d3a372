"""The sandbox's own fixtures, from sandbox.testing (the same ones other suites import)."""

from sandbox.testing import *  # noqa: F403
