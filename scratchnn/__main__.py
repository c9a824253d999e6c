"""``python -m scratchnn`` runs the command line."""

import sys

from scratchnn.cli import main

sys.exit(main())
