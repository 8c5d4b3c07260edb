"""Settings of ``make bench`` only (scripts/bench.py): the deployed settings plus the floor
view's URL and a rate limit that cannot distort the measurement. Never deploy these."""

from __future__ import annotations

import os
from pathlib import Path

from erpsettings.settings import *  # noqa: F403
from erpsettings.settings import STORAGES

ROOT_URLCONF = "erpsettings.bench_urls"

# The benchmark sends hundreds of tests a minute from one user.
ERP_TESTS_PER_MINUTE = None

# The in-process client that counts queries talks to "testserver".
ALLOWED_HOSTS = ["127.0.0.1", "testserver"]

# Static files collected into the run's throwaway directory, served by whitenoise.
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", "/nonexistent"))
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
