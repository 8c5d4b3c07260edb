"""Django settings, all read from the environment (PRODUCT.md section 9)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Development falls back to a fixed key; the deploy checks flag it in production.
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-development-only-key-change-me"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# ERP-specific settings (PRODUCT.md sections 6 and 9).
ERP_SECRET_KEYS = env_list("ERP_SECRET_KEYS")
ERP_ALLOW_PRIVATE_NETWORKS = env_bool("ERP_ALLOW_PRIVATE_NETWORKS", False)
ERP_ALLOWED_HOSTS = env_list("ERP_ALLOWED_HOSTS")
# Minutes between two automatic health checks of a connection (PRODUCT.md section 12).
ERP_HEALTH_INTERVAL = max(1, int(os.environ.get("ERP_HEALTH_INTERVAL") or "15"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "ninja",
    "axes",
    "connections",
    "quotes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "connections.middleware.TimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy on every response (Django's own middleware). No page has inline
# script or style (a test checks every template); htmx's inline indicator style is off
# (the htmx-config meta tag in base.html) and its rules live in static/css/app.css.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

ROOT_URLCONF = "erpsettings.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "erpsettings.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A select of model choices (the dialog's sync connections) iterates its queryset, which
    # on PostgreSQL declares a server-side cursor: DECLARE, FETCH and CLOSE, three round trips
    # for a handful of rows (1.0 against 0.6 ms). Nothing here iterates a result too large to
    # hold in memory, and a pooler in transaction mode (PgBouncer) needs this setting anyway.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has no row locks: a writing transaction takes the database's write lock when
    # it begins (not at its first write, which could fail with "database is locked"), and
    # waits up to 20 s for another worker's. The services' read-check-write then holds.
    # Every thread of a gthread worker holds its own connection, and each connection its
    # own page cache (2 MiB by default) of the same file the operating system caches
    # anyway: 512 KiB each keeps a worker's 16 copies from growing its memory by 32 MiB
    # (README, Deployment).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA cache_size=-512"}
    )

# The shared cache: the per-user test limit holds across every worker and machine.
# CACHE_URL=redis://host:6379/0 (or rediss://) uses Redis through redis-py; without it the
# database cache (`python manage.py createcachetable` creates its table).
CACHE_URL = os.environ.get("CACHE_URL", "").strip()
CACHES: dict[str, dict[str, Any]]
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL.startswith("locmem://"):  # one process only (development)
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif not CACHE_URL or CACHE_URL.startswith("db://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_URL.removeprefix("db://") or "erpsettings_cache",
            # Culling (a third of the rows when full) would forget counted tests.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
else:
    raise ImproperlyConfigured(
        "CACHE_URL must start with redis://, rediss://, unix://, db:// or locmem://."
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions are read from the cache (one query of its own, or Redis) and written through to
# the database, so a culled or restarted cache logs nobody out. Every signed-in request reads
# its session: through the ORM that cost 690 Python calls (about 0.5 ms), from the cache 170.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Background tasks (the health checks) on Django's task framework. The default is the
# database backend (django-tasks-db, worker: ``manage.py db_worker``); TASKS_BACKEND names
# another backend class, e.g. django.tasks.backends.immediate.ImmediateBackend.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND") or "django_tasks_db.DatabaseBackend",
    }
}

# E-mail (the availability notifications), Django 6.1's MAILERS: the console in development,
# SMTP otherwise; EMAIL_BACKEND names another backend class.
_EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend"
)
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": (
            {
                "host": os.environ.get("EMAIL_HOST", "localhost"),
                "port": int(os.environ.get("EMAIL_PORT") or "25"),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
            }
            if _EMAIL_BACKEND.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "erp-connections@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_SUBJECT_PREFIX = "[ERP connections] "

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out login before any password is checked.
    "erpsettings.auth.LoginThrottlingBackend",
    # ModelBackend, reading the signed-in user with SQL the ORM wrote once (erpsettings.auth).
    "erpsettings.auth.UserBackend",
]


def _lockout_parameters(value: str) -> list[str | list[str]]:
    """``username+ip_address`` locks the pair; ``username,ip_address`` each on its own."""
    return [
        part.split("+") if "+" in part else part
        for part in (item.strip() for item in value.split(","))
        if part
    ]


# Login throttling (django-axes) on /accounts/login/ and the admin login: after
# AXES_FAILURE_LIMIT failures a username is locked from that address for
# AXES_COOLOFF_MINUTES. Counted in the database, so every worker shares the count; the
# address is REMOTE_ADDR. Support unlocks in the admin (Axes > Access attempts: delete).
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = _lockout_parameters(
    os.environ.get("AXES_LOCKOUT_PARAMETERS", "username+ip_address")
)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "connections.views.login_locked"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Nederlands"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Amsterdam")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            # Hashed, compressed names once `collectstatic` has run (deployment);
            # plain names before that (development, tests).
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if (STATIC_ROOT / "staticfiles.json").exists()
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Only behind a proxy that sets X-Forwarded-Proto itself (and drops the client's): else a
# client could claim https.
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
