"""``python -m messages check|show KEY|list``."""

import sys

from messages.cli import main

sys.exit(main())
