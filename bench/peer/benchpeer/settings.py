"""Settings of the bench peer: Django's auth with django-allauth (pages and the
headless JSON API), SQLite, Argon2id with keyward's parameters.

Read from the environment (the harness sets them):
- BENCH_PEER_DB: the SQLite file (required).
- BENCH_PEER_ARGON2_MEMORY_KIB / _TIME_COST / _PARALLELISM: see hashers.py.
- BENCH_PEER_RATE_LIMITS: "off" (default) or "allauth" (allauth's own limits).
- BENCH_PEER_SECRET_KEY: optional; a throwaway peer needs no real secret.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get(
    "BENCH_PEER_SECRET_KEY", "bench-peer-throwaway-key-not-for-production-0123456789"
)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "allauth",
    "allauth.account",
    "allauth.headless",
    "benchpeer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "benchpeer.urls"
WSGI_APPLICATION = "benchpeer.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The same SQLite setup as keyward's (WAL, synchronous=NORMAL, a 5 s busy
# timeout) plus Django's advice for concurrent writers (IMMEDIATE transactions).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["BENCH_PEER_DB"],
        "OPTIONS": {
            "timeout": 5,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = ["benchpeer.hashers.BenchArgon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = []

# allauth's backend alone: with Django's ModelBackend in front of it (as in
# allauth's quickstart) a wrong password would be hashed twice, once by each.
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]

# Username sign-in; an optional email address, used for password reset.
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
# A missing email address is answered like an existing one (allauth's default, stated).
ACCOUNT_PREVENT_ENUMERATION = True
# allauth's limits include "login: 30/m/ip" for every sign-in, right or wrong,
# counted per worker (the default cache is per process): under a bench's load
# they answer 429 instead of hashing. Off unless asked for.
if os.environ.get("BENCH_PEER_RATE_LIMITS", "off") == "off":
    ACCOUNT_RATE_LIMITS = False

# The JSON API: the "app" client (session token, no CSRF); the pages stay on.
HEADLESS_CLIENTS = ("app",)
HEADLESS_ONLY = False

# Mail is composed (allauth renders the reset email) but not delivered: keyward
# only queues mail in its outbox at request time, so neither side waits on SMTP.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = "keyward-bench-peer@example.org"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Errors to stderr (gunicorn's error log). No request log: django.request's
# "Bad Request" line for every wrong password would be a per-request write
# (gunicorn runs without an access log for the same reason).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {"django.request": {"level": "ERROR"}},
}
