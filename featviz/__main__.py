"""Entry point for `python -m featviz`."""

import sys

from featviz.cli import main

sys.exit(main())
