"""Environment of the test run, loaded as a pytest plugin (``-p tests.environment``) so it
applies before Django reads its settings.

The test client and the live server speak plain http on 127.0.0.1, so the production
default of redirecting to https is switched off here (an explicit environment wins).
"""

from __future__ import annotations

import os

os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

# In-process tests count test limits in this process's memory (no database needed to
# clear it between tests); tests/connections/test_shared_cache.py starts worker processes
# with the deployment's default, the database cache, and with Redis.
os.environ.setdefault("CACHE_URL", "locmem://")
