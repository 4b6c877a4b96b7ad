"""``python -m confo_cli``: the same as the ``confo`` command."""

import sys

from confo_cli.main import main

sys.exit(main())
