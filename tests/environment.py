"""Environment of the test run, loaded as a pytest plugin (``-p tests.environment``) so it
applies before Django reads its settings.

The test client and the live server speak plain http on 127.0.0.1, so the production
default of redirecting to https is switched off here (an explicit environment wins).
"""

from __future__ import annotations

import os

os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
