"""``python -m scanner``: the same as the ``leaktrap`` command."""

from __future__ import annotations

import os
import sys

# ``-m`` puts the current folder first on sys.path, so a scanned folder holding a file
# named like a standard module (selectors.py, json.py...) would be imported in its
# place, running the scanned code. The package itself is already imported by now.
if __name__ == "__main__" and not sys.flags.safe_path and sys.path and sys.path[0] == os.getcwd():
    del sys.path[0]

from .cli import console  # noqa: E402 - after the sys.path guard

console()
