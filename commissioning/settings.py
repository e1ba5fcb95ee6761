"""Settings for the joint commissioning office, read from the environment.

Every value comes from an environment variable read through a strict helper that refuses a bad
value. Secrets also accept a ``<NAME>_FILE`` variant. ``PRODUCTION=true`` switches on the
hardening that ``manage.py check --deploy`` looks for and refuses to start without a secret key.

With ``DATABASE_URL`` unset the project uses a private PostgreSQL from the ``pgserver`` wheel under
``var/``; with ``REDIS_URL`` unset Celery uses kombu's filesystem transport under ``var/``.
"""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab

from commissioning.env import env_bool, env_int, env_list, env_path, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

PRODUCTION = env_bool("PRODUCTION", False)
DEBUG = env_bool("DEBUG", not PRODUCTION)

SECRET_KEY = env_secret("SECRET_KEY", None)
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY (or SECRET_KEY_FILE) must be set when PRODUCTION=true")
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production-0123456789abcdefghijklmnop"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "pgtrigger",
    "pghistory",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "django_htmx",
    "commissioning.apps.CommissioningConfig",
    "governance.apps.GovernanceConfig",
    "budgets.apps.BudgetsConfig",
    "brokerage.apps.BrokerageConfig",
    "benchmarks.apps.BenchmarksConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "commissioning.middleware.IdleTimeoutMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "commissioning.mfa.MfaRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "commissioning.middleware.CurrentPartnershipMiddleware",
    "commissioning.jobs.JobsMiddleware",
    "commissioning.errors.DatabaseUnavailableMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "commissioning.urls"
WSGI_APPLICATION = "commissioning.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "commissioning.context_processors.shell",
            ],
        },
    },
    # The heavy fragments of the busiest pages (commissioning/jinja.py), drawn with {% jinja %}.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "commissioning.jinja.environment"},
    },
]
# Django's widgets through its Jinja2 widget templates, others through the Django engine
# (commissioning/form_renderer.py): a filter form of six fields renders in about 7 ms, not 11.
FORM_RENDERER = "commissioning.form_renderer.FormRenderer"

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", "")
if not DATABASE_URL:
    from commissioning.embedded import embedded_database_url

    DATABASE_URL = embedded_database_url(VAR_DIR / "pgdata")

import dj_database_url  # noqa: E402

# Persistent connections (DB_CONN_MAX_AGE > 0) suit gunicorn; each is checked before it is reused.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0), conn_health_checks=True
    )
}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise RuntimeError("DATABASE_URL must point at PostgreSQL (postgres://...)")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# No JIT: PostgreSQL compiles plans it costs as expensive, and the audit trail's one query across
# every history table spent ~25 s compiling to fetch a page of 50 events. Short OLTP queries gain
# nothing from it.
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
_db_options["options"] = f"{_db_options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and sessions --------------------------------------------------------------------------
AUTH_USER_MODEL = "commissioning.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "commissioning.auth_backends.PermissionBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# Idle timeout: the session expires 30 minutes after it was last written; IdleTimeoutMiddleware
# writes it again when a request comes more than a minute after the last write (so the limit is
# 29 to 30 minutes of idleness, and most page views write nothing).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_IDLE_WRITE_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Lockout (django-axes): five failures lock the account for 30 minutes, wherever they came from
# (axes counts the failures of each parameter group and locks on the largest: keyed on the
# username alone, guesses spread over many addresses add up; keyed on username and address only,
# as before, each address had its own five). The username-and-address group is subsumed by the
# username group; it is listed because axes' check (axes.W006) asks for the address somewhere.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Two-factor sign-in (commissioning/mfa.py): optional for everyone; compulsory for administrators and
# finance officers when REQUIRE_MFA is on. Wrong codes count towards the axes lockout above.
REQUIRE_MFA = env_bool("REQUIRE_MFA", False)
OTP_TOTP_ISSUER = env_str("SITE_NAME", "Joint Commissioning Office")

ANONYMOUS_USER_NAME = None  # django-guardian: no anonymous user row

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True
USE_THOUSAND_SEPARATOR = False
# Formats come from the language's format module (en-GB), not from DATE_FORMAT-style settings,
# which it overrides: ours changes only how a moment is written (commissioning/formats).
FORMAT_MODULE_PATH = ["commissioning.formats"]

# --- Files --------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static")
STATICFILES_DIRS = [
    BASE_DIR / "static",
    VAR_DIR / "assets",
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
    ("htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Outside production WhiteNoise serves straight from the app and package folders (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
MEDIA_URL = "/media-not-served/"  # uploads are served only through permission-checked views
PDF_ROOT = env_path("PDF_ROOT", VAR_DIR / "pdfs")
# Uploads (commissioning/uploads.py): no file over MAX_UPLOAD_MB is accepted; the first handler
# drops every byte past that limit, files up to FILE_UPLOAD_MAX_MEMORY_SIZE stay in memory and
# larger ones go to a temporary file; DATA_UPLOAD_MAX_MEMORY_SIZE bounds the non-file fields.
MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 10)
FILE_UPLOAD_HANDLERS = [
    "commissioning.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
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

# --- E-mail -------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_path("EMAIL_FILE_PATH", VAR_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "commissioning-office@example.org")

# --- Celery -------------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # Redis down: a publish fails within seconds (the job stays recorded, commissioning/jobs.py
    # queues it again when Redis is back) instead of hanging a page for 20 seconds or more.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3}
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 3
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
        "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
    }
else:
    from commissioning.embedded import filesystem_broker_options

    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR / "celery")
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'celery' / 'results'}"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
# Jobs whose message was lost (worker killed, broker down) are queued again (commissioning/jobs.py).
JOB_RECOVERY_GRACE_SECONDS = env_int("JOB_RECOVERY_GRACE_SECONDS", 300)
JOB_RECOVERY_INTERVAL_SECONDS = env_int("JOB_RECOVERY_INTERVAL_SECONDS", 300)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A pool child is replaced after this many tasks or once it holds this much memory (KiB) after a
# task: a pack render that bloated a child does not keep the memory, nor leak into the next task.
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("WORKER_MAX_TASKS_PER_CHILD", 100)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("WORKER_MAX_MEMORY_PER_CHILD_KB", 512_000)
# A pool child keeps its database connection from task to task for this many seconds (0: a new
# connection for every task, Celery's default), checked between tasks as Django checks one between
# requests (commissioning/celery.py). A new connection starts with cold caches: about 25 ms more
# for each run of a region's recharge (20 runs: half a second of a one-worker region run).
WORKER_DB_CONN_MAX_AGE = env_int("WORKER_DB_CONN_MAX_AGE", 300)
# Celery's Django fixup closes every connection around every task unless told to reuse them;
# then it closes them every this-many tasks, and the check above does the rest.
CELERY_DB_REUSE_MAX = CELERY_WORKER_MAX_TASKS_PER_CHILD if WORKER_DB_CONN_MAX_AGE > 0 else None
# Liveness (commissioning/liveness.py): work waiting and no task started or ended for this long
# means the pool is jammed. Longer than the longest task's hard time limit (a pack: 330 s).
WORKER_LIVENESS_SECONDS = env_int("WORKER_LIVENESS_SECONDS", 420)
WORKER_PROGRESS_FILE = env_str("WORKER_PROGRESS_FILE", str(VAR_DIR / "celery" / "progress"))
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_BEAT_SCHEDULE = {
    "contracts-ending-digest": {
        "task": "commissioning.tasks.send_contracts_ending_digest",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
    },
    "referrals-started": {
        "task": "brokerage.tasks.mark_started_referrals",
        "schedule": crontab(hour=0, minute=30),
    },
    "contributions-due": {
        "task": "budgets.tasks.raise_due_contributions",
        "schedule": crontab(hour=6, minute=0),
    },
    "recover-stalled-work": {
        "task": "commissioning.jobs.recover_stalled_work",
        "schedule": JOB_RECOVERY_INTERVAL_SECONDS,
    },
    "worker-probe": {
        "task": "commissioning.tasks.worker_probe",
        "schedule": 60,
        "options": {"expires": 120},
    },
}

# --- Cache --------------------------------------------------------------------------------------
# Page blocks kept under the versions of what they read (commissioning/versions.py). On Redis when
# REDIS_URL is set, so every gunicorn process serves what one built; else each process's memory.
# Keys name the database (commissioning/cache.py); sessions stay in the database.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "commissioning.cache.SharedRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "jco",
            "KEY_FUNCTION": "commissioning.cache.make_key",
            "TIMEOUT": 60 * 60,
            # Redis out of reach: a miss within a second, the page built (commissioning/cache.py).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": "jco",
            "KEY_FUNCTION": "commissioning.cache.make_key",
        }
    }

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "commissioning.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["commissioning.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "commissioning.api.pagination.PageNumberPagination",
    # JSON bodies are objects; lists, scalars and too-deep nesting answer 400 (commissioning/api/strict.py).
    "DEFAULT_PARSER_CLASSES": [
        "commissioning.api.strict.ObjectJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "commissioning.filtersets.StrictFilterBackend",
        "commissioning.api.strict.StrictOrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "commissioning.api.renderers.CSVRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "commissioning.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "commissioning.api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATE_FORMAT": "%Y-%m-%d",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Joint commissioning office API",
    "DESCRIPTION": "Section 75 budgets, brokerage, recharges and governance. Version 1.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    # Enumerations shared by several serializers get one name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ServiceTypeEnum": "commissioning.choices.ServiceType",
        "ContractStatusEnum": "commissioning.choices.ContractStatus",
        "OrganisationKindEnum": "commissioning.choices.OrganisationKind",
        "CQCRatingEnum": "commissioning.choices.CQCRating",
        "RiskShareRuleEnum": "budgets.models.RiskShareRule",
    },
}

# --- History ------------------------------------------------------------------------------------
PGHISTORY_APPEND_ONLY = True  # history rows cannot be updated or deleted, even with raw SQL


def _history_trackers():
    import pghistory

    return (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


PGHISTORY_DEFAULT_TRACKERS = _history_trackers()

# --- Security headers ---------------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Domain settings ----------------------------------------------------------------------------
CONTRACT_DIGEST_MONTHS = (6, 12)
SITE_NAME = env_str("SITE_NAME", "Joint Commissioning Office")
SITE_URL = env_str("SITE_URL", "")  # e.g. https://commissioning.example.org, for links in e-mails
