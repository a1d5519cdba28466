"""`python -m tengen_cli ...` runs the `tengen` command line."""

import sys

from tengen_cli.main import main

sys.exit(main())
