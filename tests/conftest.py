"""Test-suite settings.

Hypothesis runs derandomised by default, so one commit always gives one verdict (CI and a
developer's machine see the same examples). To hunt for new counter-examples, run with
``HOPLON_HYPOTHESIS=explore`` (random seeds, more examples); add what it finds as an
``@example`` to the test.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("reproducible", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, max_examples=1000, print_blob=True)
settings.load_profile(os.environ.get("HOPLON_HYPOTHESIS", "reproducible"))
