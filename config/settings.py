"""Huifang settings: everything comes from environment variables (see .env.example).

Without any variable set, Huifang runs on the embedded default: SQLite under var/, background jobs
run inline, console telephony. DJANGO_DEBUG=1 is needed for the development secret key and the demo
users.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HUIFANG_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DJANGO_DEBUG=1 for development).")
    SECRET_KEY = "django-insecure-huifang-development-only-key-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
# E-callback links without PUBLIC_BASE_URL (development, the demo): the local server.
ECALLBACK_DEV_BASE_URL = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS") or ([PUBLIC_BASE_URL] if PUBLIC_BASE_URL else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_rq",
    "axes",
    "verification",
    "callback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "callback.middleware.RejectNulBytesMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "callback.context_processors.navigation",
            ],
        },
    },
]

# Database: PostgreSQL in production, SQLite under var/ as the embedded default.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'huifang.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: IMMEDIATE transactions take the write lock up front, so a claim that
    # reads then updates cannot interleave with another (see callback/queue.py).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# The queue claim (callback/queue.py) runs as a prepared statement on PostgreSQL with its generic
# plan (planned once per connection; the custom plan PostgreSQL would otherwise pick costs more to make
# than to run). Nothing else is prepared. Set QUEUE_PREPARED_CLAIM=0 behind a pooler that cannot carry
# prepared statements or startup options (PgBouncer before 1.21 in transaction mode).
QUEUE_PREPARED_CLAIM = env_bool("QUEUE_PREPARED_CLAIM", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and QUEUE_PREPARED_CLAIM:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        prepare_threshold=2**31 - 1,  # only statements executed with prepare=True
        options="-c plan_cache_mode=force_generic_plan",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Seconds the statistics (callback/stats/cache.py) are shared before they are computed again; 0: never cached.
STATS_CACHE_SECONDS = int(os.environ.get("STATS_CACHE_SECONDS") or 60)
# The statistics roll-up (callback/stats/rollup.py): rebuilt every STATS_ROLLUP_MINUTES by the job
# (callback/cron.py, or `manage.py refresh_stats` from the system cron), for free-look windows that
# started in the last STATS_ROLLUP_RECENT_DAYS (older ones nightly). Never run: figures are live.
# A running import that shows no progress for this long is failed by the sweep (its process died).
IMPORT_STALE_MINUTES = int(os.environ.get("IMPORT_STALE_MINUTES") or 30)
STATS_ROLLUP_MINUTES = int(os.environ.get("STATS_ROLLUP_MINUTES") or 10)
STATS_ROLLUP_RECENT_DAYS = int(os.environ.get("STATS_ROLLUP_RECENT_DAYS") or 35)

# Redis: unset = jobs run inline (callback/jobs.py calls the function directly; django-rq's
# synchronous mode would still need Redis). Set = django-rq queues, workers and rq's cron scheduler.
REDIS_URL = os.environ.get("REDIS_URL", "")
RQ_QUEUES = {
    # RQ_ASYNC=0 runs jobs synchronously, still through Redis (the test suite uses it).
    "default": {
        "URL": REDIS_URL or "redis://127.0.0.1:6379/0",
        "DEFAULT_TIMEOUT": 3600,
        "ASYNC": env_bool("RQ_ASYNC", True),
    },
}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Login throttling (callback/auth.py, django-axes): LOGIN_FAILURE_LIMIT failures of one username
# from one client address lock that pair for LOGIN_LOCKOUT_SECONDS. Every way in counts: the login
# page, the admin's login, a password change's old password, API tokens.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
AUTHENTICATION_BACKENDS = [
    "callback.auth.RequestAxesBackend",  # first: it refuses a locked-out client before any check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = "callback.auth.failure_limit"
AXES_COOLOFF_TIME = "callback.auth.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "callback.auth.locked_out"
AXES_CLIENT_IP_CALLABLE = "callback.audit.client_ip"
AXES_VERBOSE = False
# Behind a TLS proxy or load balancer: its addresses (comma-separated, CIDR allowed). Only then is
# the client address taken from CLIENT_IP_HEADER (the META name of the header the proxy sets),
# for lockouts and the audit trail. Unset, REMOTE_ADDR is the client.
TRUSTED_PROXIES = [p.strip() for p in os.environ.get("TRUSTED_PROXIES", "").split(",") if p.strip()]
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "HTTP_X_FORWARDED_FOR")

# Content-Security-Policy (django-csp 4): scripts and styles only from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing root before collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded import files (raw personal data) are deleted this many days after the upload.
UPLOAD_RETENTION_DAYS = int(os.environ.get("UPLOAD_RETENTION_DAYS", "30"))
# Largest upload accepted on the imports page, and what one XLSX part may unpack to (zip bombs).
UPLOAD_MAX_BYTES = int(os.environ.get("UPLOAD_MAX_BYTES", str(200 * 1024 * 1024)))
XLSX_MAX_MEMBER_BYTES = int(os.environ.get("XLSX_MAX_MEMBER_BYTES", str(1024 * 1024 * 1024)))
XLSX_MAX_SHARED_STRINGS_BYTES = int(os.environ.get("XLSX_MAX_SHARED_STRINGS_BYTES", str(100 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# API tokens expire this many days after they are issued, and die when the password changes.
API_TOKEN_LIFETIME_DAYS = int(os.environ.get("API_TOKEN_LIFETIME_DAYS", "30"))
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "callback.api.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "callback.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/min"),
        "user": os.environ.get("API_THROTTLE_USER", "1200/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "callback.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Huifang API",
    "DESCRIPTION": "Policies in, contact-data flags and callback tasks out.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from the sidecar package: call centres often have no internet, so no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Telephony: Twilio when an account is configured, else the console backend (logs and simulates).
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TELEPHONY_BACKEND = os.environ.get("TELEPHONY_BACKEND") or (
    "twilio" if TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER else "console"
)
# The number customers see (caller id of the bridged call); defaults to the number calls are placed from.
TELEPHONY_CALLER_ID = os.environ.get("TELEPHONY_CALLER_ID", "") or TWILIO_FROM_NUMBER
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_TIMEOUT = float(os.environ.get("TWILIO_TIMEOUT", "10"))  # seconds per request to Twilio
TELEPHONY_RING_SECONDS = int(os.environ.get("TELEPHONY_RING_SECONDS", "30"))
# Console backend: how its calls end (weights) and seconds per step of a simulated call.
TELEPHONY_CONSOLE_ODDS = os.environ.get(
    "TELEPHONY_CONSOLE_ODDS", "answered:70,busy:10,no_answer:15,wrong_number:5"
)
TELEPHONY_CONSOLE_STEP_SECONDS = float(os.environ.get("TELEPHONY_CONSOLE_STEP_SECONDS", "1.5"))
# Recordings are deleted at Twilio and marked here this many days after the call (0 = kept).
RECORDING_RETENTION_DAYS = int(os.environ.get("RECORDING_RETENTION_DAYS", "1095"))
SMS_COMPANY_NAME = os.environ.get("SMS_COMPANY_NAME", "惠方人寿")
# An SMS telling the customer the callback is coming, sent before a task's first click-to-call.
SMS_PRECALL_NOTICE = env_bool("SMS_PRECALL_NOTICE", False)

# Screening: phone_shared is raised when this many distinct applicants (by id number) share a phone.
PHONE_SHARED_THRESHOLD = int(os.environ.get("PHONE_SHARED_THRESHOLD", "3"))
# Intake: worker processes parsing a policies file of more than one batch (0 or 1: in the importing
# process; unset: one per core).
INTAKE_WORKERS = int(os.environ.get("INTAKE_WORKERS") or os.cpu_count() or 1)
INSURER_HOTLINE = os.environ.get("INSURER_HOTLINE", "95519")
# Management duties (callback/accountability/): days a branch has to correct defective customer data
# after a correction request (第八条: fee holds run until then, deductions after).
CORRECTION_DAYS = int(os.environ.get("CORRECTION_DAYS", "30"))

# Queue (callback/queue.py): how long a claimed task stays with its agent without a heartbeat, and how
# long an appointment waits for its own agent before anyone may take it.
QUEUE_LEASE_MINUTES = int(os.environ.get("QUEUE_LEASE_MINUTES", "15"))
QUEUE_APPOINTMENT_GRACE_MINUTES = int(os.environ.get("QUEUE_APPOINTMENT_GRACE_MINUTES", "15"))

# Security: strict outside DEBUG; `manage.py check --deploy` is clean with production env.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # axes logs every successful login at INFO; logins are in the audit trail, lockouts stay WARNING.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
