"""The one settings module. Everything that differs between machines comes from the environment.

REFUGE_MODE chooses how strict start-up is:
- ``production`` (the default): every secret must be given (as VAR or VAR_FILE) or start-up fails.
- ``demo``: secrets are generated once into a git-ignored file under REFUGE_HOME (``make demo``).
- ``test``: fixed throw-away keys, fast password hashing; only the test suite sets this.
"""

from __future__ import annotations

import base64
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
MODE = os.environ.get("REFUGE_MODE", "production")
if MODE not in {"production", "demo", "test"}:
    raise ImproperlyConfigured(f"REFUGE_MODE must be production, demo or test, not {MODE!r}.")
REFUGE_HOME = Path(os.environ.get("REFUGE_HOME", Path.cwd() / "var"))


def _read_env(name: str) -> str | None:
    """VAR, or the contents of the file named by VAR_FILE (for Docker/Kubernetes secrets)."""
    value = os.environ.get(name)
    if value:
        return value.strip()
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points to {path!r}, which cannot be read: {exc}"
            ) from exc
    return None


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _new_vapid_pair() -> tuple[str, str]:
    """A VAPID key pair for Web Push: the private key as base64url of its 32 raw bytes, the
    public key as base64url of the uncompressed point (what browsers take as applicationServerKey)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")  # noqa: E731
    return b64(raw), b64(point)


SECRET_NAMES = {
    "REFUGE_SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "REFUGE_MASTER_KEY": lambda: "k1:" + _new_key(),
    "REFUGE_BLIND_INDEX_KEY": _new_key,
    "REFUGE_MANGO_API_KEY": lambda: secrets.token_hex(16),
    "REFUGE_MANGO_API_SALT": lambda: secrets.token_hex(16),
    "REFUGE_TWILIO_AUTH_TOKEN": lambda: secrets.token_hex(16),
    "REFUGE_TELEGRAM_WEBHOOK_SECRET": lambda: secrets.token_urlsafe(32),
    # This instance's Ed25519 signing key for federation (SPEC C12): base64 of its 32-byte seed.
    # Optional in production: without it federation is off (refuge.federation.conf).
    "REFUGE_FEDERATION_KEY": _new_key,
    # Its X25519 key for case records sealed to it by peers (issue 20): base64 of 32 bytes.
    # Optional: without it this instance cannot receive a record (peers see no sealing key).
    "REFUGE_FEDERATION_SEALING_KEY": _new_key,
}
# Generated together (a key pair); optional in production (Web Push is off without them).
PAIRED_SECRETS = {("REFUGE_VAPID_PRIVATE_KEY", "REFUGE_VAPID_PUBLIC_KEY"): _new_vapid_pair}
REQUIRED_IN_PRODUCTION = ("REFUGE_SECRET_KEY", "REFUGE_MASTER_KEY", "REFUGE_BLIND_INDEX_KEY")

# Fixed keys for the test suite only: they protect nothing and must never be used elsewhere.
_TEST_SECRETS = {
    "REFUGE_SECRET_KEY": "test-only-secret-key-" + "x" * 40,
    "REFUGE_MASTER_KEY": "test1:" + base64.b64encode(b"t" * 32).decode(),
    "REFUGE_BLIND_INDEX_KEY": base64.b64encode(b"b" * 32).decode(),
    "REFUGE_MANGO_API_KEY": "test-mango-key",
    "REFUGE_MANGO_API_SALT": "test-mango-salt",
    "REFUGE_TWILIO_AUTH_TOKEN": "test-twilio-token",
    "REFUGE_TELEGRAM_WEBHOOK_SECRET": "test-telegram-webhook-secret",
    "REFUGE_FEDERATION_KEY": base64.b64encode(b"f" * 32).decode(),
    "REFUGE_FEDERATION_SEALING_KEY": base64.b64encode(b"x" * 32).decode(),
}


def _demo_secrets() -> dict[str, str]:
    """Generate the demo's secrets once and keep them in REFUGE_HOME/secrets.env (git-ignored)."""
    path = REFUGE_HOME / "secrets.env"
    found: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if "=" in line and not line.startswith("#"):
                key, _sep, value = line.partition("=")
                found[key.strip()] = value.strip()
    missing = {name: make() for name, make in SECRET_NAMES.items() if name not in found}
    for names, make_pair in PAIRED_SECRETS.items():
        if not all(n in found for n in names):
            missing.update(zip(names, make_pair(), strict=True))
    if missing:
        REFUGE_HOME.mkdir(parents=True, exist_ok=True, mode=0o700)
        found.update(missing)
        body = "# Generated by Refuge for the demo. Never use these in production.\n"
        body += "".join(f"{k}={v}\n" for k, v in found.items())
        path.write_text(body, encoding="utf-8")
        path.chmod(0o600)
    return found


def _secrets() -> dict[str, str | None]:
    paired = [n for names in PAIRED_SECRETS for n in names]
    given = {name: _read_env(name) for name in [*SECRET_NAMES, *paired]}
    if MODE == "test":
        test_pair = dict(zip(paired, _new_vapid_pair(), strict=True))
        return {name: given[name] or _TEST_SECRETS.get(name) or test_pair[name] for name in given}
    if MODE == "demo":
        generated = _demo_secrets()
        return {name: given[name] or generated[name] for name in given}
    missing = [name for name in REQUIRED_IN_PRODUCTION if not given[name]]
    if missing:
        raise ImproperlyConfigured(
            "Refuge will not start without its keys: set "
            + ", ".join(missing)
            + " (or the same names with _FILE). See docs/deployment.md. "
            "For a local trial run `make demo`, which generates throw-away keys."
        )
    return given


REFUGE_SECRETS = _secrets()
SECRET_KEY = REFUGE_SECRETS["REFUGE_SECRET_KEY"]
REFUGE_MASTER_KEY = REFUGE_SECRETS["REFUGE_MASTER_KEY"]
REFUGE_BLIND_INDEX_KEY = REFUGE_SECRETS["REFUGE_BLIND_INDEX_KEY"]
REFUGE_MANGO_API_KEY = REFUGE_SECRETS["REFUGE_MANGO_API_KEY"]
REFUGE_MANGO_API_SALT = REFUGE_SECRETS["REFUGE_MANGO_API_SALT"]
REFUGE_TWILIO_AUTH_TOKEN = REFUGE_SECRETS["REFUGE_TWILIO_AUTH_TOKEN"]
REFUGE_TELEGRAM_WEBHOOK_SECRET = REFUGE_SECRETS["REFUGE_TELEGRAM_WEBHOOK_SECRET"]
REFUGE_VAPID_PRIVATE_KEY = REFUGE_SECRETS["REFUGE_VAPID_PRIVATE_KEY"]
REFUGE_VAPID_PUBLIC_KEY = REFUGE_SECRETS["REFUGE_VAPID_PUBLIC_KEY"]
REFUGE_FEDERATION_KEY = REFUGE_SECRETS["REFUGE_FEDERATION_KEY"]
REFUGE_FEDERATION_SEALING_KEY = REFUGE_SECRETS["REFUGE_FEDERATION_SEALING_KEY"]

DEBUG = MODE != "production" and os.environ.get("REFUGE_DEBUG") == "1"
ALLOWED_HOSTS = [h for h in (_read_env("REFUGE_ALLOWED_HOSTS") or "").split(",") if h]
if MODE != "production":
    ALLOWED_HOSTS += ["127.0.0.1", "localhost", "testserver", "[::1]"]
CSRF_TRUSTED_ORIGINS = [o for o in (_read_env("REFUGE_CSRF_TRUSTED_ORIGINS") or "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "refuge.core",
    "refuge.directory",
    "refuge.vacancies",
    "refuge.cases",
    "refuge.hotline",
    "refuge.insights",
    "refuge.programmes",
    "refuge.meetings",
    "refuge.referrals",
    "refuge.notifications",
    "refuge.federation",
    "refuge.help",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # PBX webhooks (/api/v1/telephony/) take a lean lane of their own: see refuge/hotline/lane.py.
    "refuge.hotline.lane.TelephonyLaneMiddleware",
    # First of the rest, so it compresses the response as the others leave it; only placement
    # search's and the HSDS API's JSON (BREACH: see the class and docs/decisions.md).
    "refuge.core.middleware.ApiGZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "refuge.core.middleware.HtmxSignInRedirectMiddleware",
    "refuge.core.middleware.IdleTimeoutMiddleware",
    "refuge.core.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "refuge.core.middleware.SecurityHeadersMiddleware",
    # A NUL byte anywhere in the request is a 400, never a database error (issue 14). Before
    # every view and every middleware that stores request data (break-glass audits the path);
    # after the header middleware, so the refusal carries the same headers as every page.
    "refuge.core.middleware.NulByteMiddleware",
    # Last, so that its refusals get the same headers (CSP, no-store) as every other page.
    "refuge.core.middleware.BreakGlassMiddleware",
]

ROOT_URLCONF = "refuge.urls"
WSGI_APPLICATION = "refuge.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "refuge.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = _read_env("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if _read_env("REFUGE_DB_TRANSACTION_POOLING") == "1":
        # Behind PgBouncer in transaction mode: `.iterator()` must not open server-side
        # cursors (a named cursor needs the same server connection across statements), and
        # Django's own persistent connections are PgBouncer's job (docs/deployment.md).
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    if MODE != "test":
        from refuge.core import private_files

        # Created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the same
        # mode); a database left 0644 by an older version is narrowed (issue 14, M4).
        private_files.ensure(REFUGE_HOME / "refuge.sqlite3")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:" if MODE == "test" else REFUGE_HOME / "refuge.sqlite3",
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so read-then-write cannot race.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                # secure_delete: a shredded data key's bytes are zeroed, not left in free space.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                    "PRAGMA secure_delete=ON;"
                ),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication --------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]


def _int_env(name: str, default: int) -> int:
    return int(_read_env(name) or default)


# Sign-in protection (refuge.core.lockout; the trade-offs in docs/decisions.md, "Lockout").
# Each step (password, code) counts its own failures; a right password never clears wrong codes.
# A source (address) or a known browser is locked out of one account after this many failures:
REFUGE_LOCKOUT_FAILURES = _int_env("REFUGE_LOCKOUT_FAILURES", 5)
REFUGE_LOCKOUT_MINUTES = _int_env("REFUGE_LOCKOUT_MINUTES", 30)
# Wrong passwords for one account from unknown browsers, over the same window, before every
# unknown browser is slowed to one attempt per REFUGE_LOCKOUT_SLOW_SECONDS (slowed, never locked:
# nobody can lock a member of staff out from afar; her known browsers are not slowed).
REFUGE_LOCKOUT_ACCOUNT_CEILING = _int_env("REFUGE_LOCKOUT_ACCOUNT_CEILING", 20)
REFUGE_LOCKOUT_SLOW_SECONDS = _int_env("REFUGE_LOCKOUT_SLOW_SECONDS", 60)
# Wrong codes after a right password, from unknown browsers, before the code step is closed to
# every unknown browser until the owner or a manager unlocks it. Six digits leave a guesser who
# has the password 3 chances in a million per try, so this budget is small and not renewed by time.
REFUGE_SECOND_FACTOR_ACCOUNT_LIMIT = _int_env("REFUGE_SECOND_FACTOR_ACCOUNT_LIMIT", 10)
REFUGE_SECOND_FACTOR_MEMORY_DAYS = _int_env("REFUGE_SECOND_FACTOR_MEMORY_DAYS", 30)
REFUGE_KNOWN_BROWSER_DAYS = _int_env("REFUGE_KNOWN_BROWSER_DAYS", 180)
REFUGE_UNLOCK_LINK_MINUTES = _int_env("REFUGE_UNLOCK_LINK_MINUTES", 30)
REFUGE_UNLOCK_LINKS_PER_HOUR = _int_env("REFUGE_UNLOCK_LINKS_PER_HOUR", 3)
# Changing the password or the authenticator, creating staff, issuing API keys and opening
# break-glass ask for the password and a fresh code again; the proof lasts this long.
REFUGE_REAUTH_MINUTES = _int_env("REFUGE_REAUTH_MINUTES", 10)
REFUGE_BREAK_GLASS_MINUTES = _int_env("REFUGE_BREAK_GLASS_MINUTES", 30)
REFUGE_BREAK_GLASS_MIN_REASON = _int_env("REFUGE_BREAK_GLASS_MIN_REASON", 40)
REFUGE_API_KEY_DAYS = _int_env("REFUGE_API_KEY_DAYS", 365)
# Holds and rate limits (issue 14, M5; refuge.referrals.services, refuge.core.limits). A hold
# lasts at most REFUGE_HOLD_MAX_MINUTES. Beyond the open holds allowed per case, per sender (a
# person or an API key) and per sending organisation, a referral is still sent but asks for an
# answer without holding a place. Rate limits count per key and per person; 0 switches one off.
REFUGE_HOLD_MAX_MINUTES = _int_env("REFUGE_HOLD_MAX_MINUTES", 240)
REFUGE_HOLDS_PER_CASE = _int_env("REFUGE_HOLDS_PER_CASE", 3)
REFUGE_HOLDS_PER_SENDER = _int_env("REFUGE_HOLDS_PER_SENDER", 20)
REFUGE_HOLDS_PER_ORGANISATION = _int_env("REFUGE_HOLDS_PER_ORGANISATION", 100)
REFUGE_RATE_REFERRALS_PER_HOUR = _int_env("REFUGE_RATE_REFERRALS_PER_HOUR", 30)
REFUGE_RATE_SEARCHES_PER_MINUTE = _int_env("REFUGE_RATE_SEARCHES_PER_MINUTE", 30)
REFUGE_RATE_CASE_SEARCHES_PER_MINUTE = _int_env("REFUGE_RATE_CASE_SEARCHES_PER_MINUTE", 10)

# Kept OUTSIDE the database, 0600 (docs/security.md, "Audit tail" and "Erasure on request"):
# signed audit checkpoints, so losing the newest events is detected, and the shred ledger, which
# `refuge restore` re-applies so a backup taken before an erasure does not bring her back.
REFUGE_AUDIT_CHECKPOINT_FILE = Path(
    _read_env("REFUGE_AUDIT_CHECKPOINT_FILE") or REFUGE_HOME / "audit-checkpoints.jsonl"
)
REFUGE_SHRED_LEDGER_FILE = Path(
    _read_env("REFUGE_SHRED_LEDGER_FILE") or REFUGE_HOME / "shred-ledger.jsonl"
)
# django-otp's own throttle is off on purpose: it lives on the device, so every source shares
# it, and its delay doubles without bound (2^n seconds), which let anyone with the password keep
# the owner out of her second factor for hours. refuge.core.lockout counts code failures per
# source and per account instead, with unlock routes. One step of clock drift either way.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_TOTP_SYNC = True
OTP_TOTP_ISSUER = "Refuge"
REFUGE_IDLE_TIMEOUT = timedelta(minutes=int(_read_env("REFUGE_IDLE_TIMEOUT_MINUTES") or 30))

# --- Sessions, cookies, headers --------------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = 12 * 3600  # absolute limit; the idle limit is enforced by middleware
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_NAME = "refuge_session"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
LANGUAGE_COOKIE_SAMESITE = "Strict"
_https = MODE == "production"
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
LANGUAGE_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = _https and os.environ.get("REFUGE_SSL_REDIRECT", "1") == "1"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _https else None
SECURE_HSTS_SECONDS = 31536000 if _https else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on form posts,
# which fails CSRF origin checks. The referrer still never leaves the site (docs/decisions.md).
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Hotline (refuge.hotline.conf reads these; defaults there).
REFUGE_PUBLIC_URL = (
    _read_env("REFUGE_PUBLIC_URL") or ""
)  # e.g. https://refuge.example.org (Twilio signatures)
REFUGE_HOTLINE_REPEAT_WINDOW_DAYS = int(_read_env("REFUGE_HOTLINE_REPEAT_WINDOW_DAYS") or 30)
REFUGE_HOTLINE_SHORT_ABANDON_SECONDS = int(_read_env("REFUGE_HOTLINE_SHORT_ABANDON_SECONDS") or 5)
REFUGE_HOTLINE_MAX_EVENT_BYTES = int(_read_env("REFUGE_HOTLINE_MAX_EVENT_BYTES") or 64 * 1024)
# "direct" (each Mango/Twilio event merged in its own request) or "batched" (kept as received,
# merged by `refuge hotline-merge`; docs/decisions.md, docs/deployment.md).
REFUGE_HOTLINE_INGEST = _read_env("REFUGE_HOTLINE_INGEST") or "direct"
if REFUGE_HOTLINE_INGEST not in ("direct", "batched"):
    raise ImproperlyConfigured("REFUGE_HOTLINE_INGEST must be 'direct' or 'batched'.")
REFUGE_SMALL_CELL_THRESHOLD = int(_read_env("REFUGE_SMALL_CELL_THRESHOLD") or 5)
# The carriers of a relocation see the confidential destination until this long after the
# expected arrival (else the departure, else the plan), even if she never arrives (issue 14).
REFUGE_CARRIER_ADDRESS_HOURS = _int_env("REFUGE_CARRIER_ADDRESS_HOURS", 12)

# --- Languages -------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ru", _("Russian")),
    ("ky", _("Kyrgyz")),
    ("uk", _("Ukrainian")),
    ("cs", _("Czech")),
]
STAFF_LANGUAGES = ["en", "ru"]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# Kyrgyz dates the way Kyrgyz writes them (refuge/formats/ky; docs/decisions.md).
FORMAT_MODULE_PATH = ["refuge.formats"]
USE_I18N = True
TIME_ZONE = "Europe/Moscow"
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = (
    (Path(_read_env("REFUGE_STATIC_ROOT") or REFUGE_HOME / "static"))
    if MODE == "production"
    else None
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if MODE == "production"
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = MODE != "production"

EMAIL_BACKEND = _read_env("REFUGE_EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if MODE == "production"
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = _read_env("REFUGE_FROM_EMAIL") or "refuge@localhost"
REFUGE_EMAIL_URL = _read_env("REFUGE_EMAIL_URL")


def _email_from_url(url: str) -> dict[str, object]:
    """smtp://host:port, smtp+tls://user:password@host:587 (STARTTLS), smtp+ssl://…:465."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtp+tls", "smtp+ssl"} or not parts.hostname:
        raise ImproperlyConfigured(
            "REFUGE_EMAIL_URL must look like smtp://host:25, smtp+tls://user:password@host:587 "
            "or smtp+ssl://user:password@host:465."
        )
    default_port = {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}[parts.scheme]
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or default_port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_USE_SSL": parts.scheme == "smtp+ssl",
        "EMAIL_TIMEOUT": 20,
    }


if REFUGE_EMAIL_URL:  # when set, email goes by SMTP in any mode (tests included)
    globals().update(_email_from_url(REFUGE_EMAIL_URL))

# --- Background work (SPEC C11): Django's Tasks API through django-tasks ---------------------
# `database` (default): jobs are rows in this database, written in the transaction of the change
# that causes them. `rq`: Redis through django-tasks-rq, for networks that outgrow the table.
REFUGE_TASKS_BACKEND = _read_env("REFUGE_TASKS_BACKEND") or "database"
REFUGE_TASKS_QUEUE = _read_env("REFUGE_TASKS_QUEUE") or "refuge"
REFUGE_REDIS_URL = _read_env("REFUGE_REDIS_URL") or ""
if REFUGE_TASKS_BACKEND == "database":
    TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": [REFUGE_TASKS_QUEUE]}
    }
elif REFUGE_TASKS_BACKEND == "rq":
    if not REFUGE_REDIS_URL:
        raise ImproperlyConfigured("REFUGE_TASKS_BACKEND=rq needs REFUGE_REDIS_URL.")
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [REFUGE_TASKS_QUEUE]}}
    RQ_QUEUES = {REFUGE_TASKS_QUEUE: {"URL": REFUGE_REDIS_URL, "DEFAULT_TIMEOUT": 300}}
else:
    raise ImproperlyConfigured("REFUGE_TASKS_BACKEND must be database or rq.")

# --- Notification channels (refuge.notifications.conf reads these) ---------------------------
REFUGE_TELEGRAM_BOT_TOKEN = _read_env("REFUGE_TELEGRAM_BOT_TOKEN") or ""
REFUGE_TELEGRAM_BOT_USERNAME = _read_env("REFUGE_TELEGRAM_BOT_USERNAME") or ""
REFUGE_TELEGRAM_API_URL = (
    _read_env("REFUGE_TELEGRAM_API_URL") or "https://api.telegram.org"
).rstrip("/")
# The `sub` claim of VAPID: how a push service can reach the operator of this instance.
REFUGE_VAPID_SUBJECT = _read_env("REFUGE_VAPID_SUBJECT") or "mailto:" + DEFAULT_FROM_EMAIL

# --- Federation between networks (SPEC C12; refuge.federation.conf reads these) -------------
# On when REFUGE_FEDERATION_KEY is given (the demo and the tests make their own). The name is how
# this instance introduces itself; the base URL is where peers reach its /api/v1/federation/.
REFUGE_FEDERATION_NAME = _read_env("REFUGE_FEDERATION_NAME") or (
    "" if MODE == "production" else "refuge-" + MODE
)
REFUGE_BASE_URL = (
    _read_env("REFUGE_BASE_URL")
    or REFUGE_PUBLIC_URL
    or ("" if MODE == "production" else "http://127.0.0.1:8000")
).rstrip("/")
if REFUGE_FEDERATION_KEY and not (REFUGE_FEDERATION_NAME and REFUGE_BASE_URL):
    raise ImproperlyConfigured(
        "REFUGE_FEDERATION_KEY is set, so federation is on: set REFUGE_FEDERATION_NAME and "
        "REFUGE_BASE_URL too (docs/deployment.md), or unset the key to keep federation off."
    )
REFUGE_FEDERATION_MAX_BODY_BYTES = _int_env("REFUGE_FEDERATION_MAX_BODY_BYTES", 256 * 1024)
REFUGE_FEDERATION_CLOCK_SKEW_SECONDS = _int_env("REFUGE_FEDERATION_CLOCK_SKEW_SECONDS", 300)
REFUGE_FEDERATION_SNAPSHOT_TTL_HOURS = _int_env("REFUGE_FEDERATION_SNAPSHOT_TTL_HOURS", 24)

# Logs carry no personal data: request bodies are never logged, and errors go through
# views that render no detail.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"refuge": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

if MODE == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if not REFUGE_EMAIL_URL:
        EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
