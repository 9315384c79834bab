"""``python -m fastdeconv``: the ``fastdeconv`` command (see :mod:`fastdeconv.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
