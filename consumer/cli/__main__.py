"""``python -m consumer.cli``: the ``hookstream`` command without the installed script."""

import sys

from consumer.cli import main

sys.exit(main())
