"""``python -m app.cli``: the `digits` command."""

import sys

from app.cli.main import main

sys.exit(main())
