"""Kiungo settings. Every value comes from a KIUNGO_* environment variable (see README)."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from kiungo.lib.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

ENV = env_str("KIUNGO_ENV", "development")
if ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("KIUNGO_ENV must be development, production or test")
PRODUCTION = ENV == "production"

SECRET_KEY = env_secret("KIUNGO_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "KIUNGO_SECRET_KEY (or KIUNGO_SECRET_KEY_FILE) is required in production"
        )
    SECRET_KEY = "development-only-not-secret-kiungo-0123456789-abcdefghijklmnop"

if PRODUCTION:
    # Source identities are encrypted and hashed with these keys (kiungo/lib/crypto.py);
    # starting without them would fail at the first SMS instead of now.
    for _name in ("KIUNGO_FIELD_KEYS", "KIUNGO_HASH_KEY"):
        if not (env_str(_name) or env_str(f"{_name}_FILE")):
            raise ImproperlyConfigured(f"{_name} is required in production")

DEBUG = env_bool("KIUNGO_DEBUG", ENV == "development")
DATA_DIR = Path(env_str("KIUNGO_DATA_DIR", str(BASE_DIR / "data")))

ALLOWED_HOSTS = env_list(
    "KIUNGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("KIUNGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "kiungo.missions",
    "kiungo.geography",
    "kiungo.forces",
    "kiungo.people",
    "kiungo.network",
    "kiungo.messaging",
    "kiungo.alerts",
    "kiungo.accountability",
    "kiungo.safety",
    "kiungo.protection",
    "kiungo.reports",
    "kiungo.alertnet",
    "kiungo.api",
    "kiungo.demo",
    "ninja",  # its bundled Swagger UI files, so /api/docs needs no CDN
    "kiungo.bench",  # the intake benchmark's baseline; its URL only with KIUNGO_BENCH=1
    "kiungo.lib.admin.KiungoAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "kiungo.lib.middleware.LanguageSwitchMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kiungo.lib.middleware.MissionTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kiungo.urls"
WSGI_APPLICATION = "kiungo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kiungo" / "templates"],
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


def _database() -> dict:
    default_url = f"sqlite:///{DATA_DIR / 'kiungo.sqlite3'}"
    config = dj_database_url.parse(env_str("KIUNGO_DATABASE_URL", default_url))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config["NAME"] != ":memory:":
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        config["OPTIONS"] = {
            # IMMEDIATE: a transaction that reads before it writes (a duplicate check, a claim)
            # takes the write lock at BEGIN instead of failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("KIUNGO_SQLITE_TIMEOUT", 20),
            # FULL: an acknowledged commit survives a power cut (NORMAL may lose it in WAL).
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
            ),
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
        # An unreachable server must fail fast (intake answers 503 and the gateway retries),
        # not hold a web worker until the operating system's TCP timeout.
        config.setdefault("OPTIONS", {})["connect_timeout"] = env_int(
            "KIUNGO_DB_CONNECT_TIMEOUT", 5
        )
    else:
        raise ImproperlyConfigured("KIUNGO_DATABASE_URL must be sqlite:// or postgres://")
    # A new connection per request costs 6-7x throughput on PostgreSQL (DESIGN.md) and, on
    # SQLite, half the bare insert rate (opening the file and its PRAGMAs): keep them open.
    config["CONN_MAX_AGE"] = env_int("KIUNGO_DB_CONN_MAX_AGE", 60)
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Storage in UTC; pages show the local time of the mission or place.
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "kiungo" / "locale"]
LANGUAGE_COOKIE_NAME = "kiungo_language"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
WHITENOISE_USE_FINDERS = not PRODUCTION  # production serves what collectstatic gathered
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # `collectstatic` fills it in production
STATICFILES_DIRS = [BASE_DIR / "kiungo" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security headers (always on; HTTPS-only parts in production, see README).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("KIUNGO_SESSION_SECONDS", 12 * 3600)
SECURE_SSL_REDIRECT = env_bool("KIUNGO_SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("KIUNGO_SECURE_COOKIES", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("KIUNGO_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KIUNGO_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("KIUNGO_HSTS_PRELOAD", PRODUCTION)
if env_bool("KIUNGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The demo scenario (documented passwords) may never run in production.
DEMO_ALLOWED = not PRODUCTION

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "kiungo.lib.logging.RedactPersonalData"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env_str("KIUNGO_LOG_FORMAT", "json" if PRODUCTION else "text"),
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("KIUNGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Request bodies and URLs may carry user input; the handler above redacts what it sees.
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
ADMINS: list = []  # no error e-mails: they would carry request data

# E-mail to officers (notifications, escalations), sent by the worker from the outbox.
# Without KIUNGO_EMAIL_HOST, outside production, e-mails are printed by the worker (and
# readable on the outbox page).
EMAIL_HOST = env_str("KIUNGO_EMAIL_HOST")
EMAIL_PORT = env_int("KIUNGO_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("KIUNGO_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_secret("KIUNGO_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("KIUNGO_EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("KIUNGO_EMAIL_FROM", "kiungo@localhost")
if not EMAIL_HOST and not PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Links in e-mails point here (the address officers open Kiungo at).
PUBLIC_URL = env_str("KIUNGO_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
