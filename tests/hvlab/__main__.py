# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m hvlab``: see hvlab/cli.py."""

import sys

from .cli import main

sys.exit(main())
