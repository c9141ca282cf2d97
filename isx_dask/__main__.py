"""``python -m isx_dask``: the command line."""

import sys

from .cli import main

sys.exit(main())
