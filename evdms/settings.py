"""The one settings module of evdms.

Everything that differs between machines is read from the environment through the
typed helpers of ``evdms.env`` (see ``.env.example``). ``EVDMS_ENV`` picks the mode:

- ``development`` (default): DEBUG, SQLite under ``var/``, e-mail kept in the local outbox.
- ``test``: like development, with fast password hashing and tasks run in-process.
- ``production``: every secret must be given; ``manage.py check --deploy`` is clean.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from evdms.env import (
    ConfigurationError,
    checked_bank_account,
    checked_ocpi_party,
    checked_vat_number,
    env_bool,
    env_choice,
    env_decimal,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("EVDMS_VAR_DIR", str(BASE_DIR / "var")))

ENVIRONMENT = env_choice("EVDMS_ENV", "development", {"development", "test", "production"})
PRODUCTION = ENVIRONMENT == "production"
TESTING = ENVIRONMENT == "test"

DEBUG = env_bool("EVDMS_DEBUG", ENVIRONMENT == "development")
# Set when a proxy terminates TLS: it sends X-Forwarded-Proto and X-Forwarded-For.
BEHIND_PROXY = env_bool("EVDMS_BEHIND_PROXY", False)
if PRODUCTION and DEBUG:
    raise ConfigurationError("EVDMS_DEBUG cannot be true in production")

if PRODUCTION:
    SECRET_KEY = env_str("EVDMS_SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ConfigurationError("EVDMS_SECRET_KEY must be at least 50 characters in production")
else:
    SECRET_KEY = env_str(
        "EVDMS_SECRET_KEY", "development-only-key-never-used-in-production-0123456789abcdef"
    )

# Keys retired from EVDMS_SECRET_KEY, newest first: sessions, signed links and chargers'
# password hashes made with them still verify (chargers' are re-hashed on connection).
SECRET_KEY_FALLBACKS = env_list("EVDMS_SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list(
    "EVDMS_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigurationError("EVDMS_ALLOWED_HOSTS must name the host(s) in production")
CSRF_TRUSTED_ORIGINS = env_list("EVDMS_CSRF_TRUSTED_ORIGINS", [])

# The address the platform is reached at, for links in e-mails (set-up links, invites).
SITE_URL = env_str("EVDMS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "evdms.accounts",
    "evdms.audit",
    "evdms.notifications",
    "evdms.connections",
    "evdms.enrolment",
    "evdms.reimbursements",
    "evdms.charging",
    "evdms.public_charging",
    "evdms.ocpi",
    "evdms.installations",
    "evdms.invoicing",
    "evdms.reports",
    "evdms.ui",
    "evdms.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ninja",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: requests under /ocpi/ (partners' machines, token-authenticated) leave this
    # chain for OCPI_MIDDLEWARE below; see evdms/ocpi/middleware.py.
    "evdms.ocpi.middleware.OcpiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After authentication: the user's own language wins over the browser's.
    "evdms.ui.language.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After OTP: a session that still owes its second factor reaches only the pages
    # that let it give one (or set one up).
    "evdms.accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A GET of a form-only address goes to its page, not a blank 405.
    "evdms.ui.middleware.FormOnlyAddressMiddleware",
    # Axes last: it reads the outcome of authentication for lockouts.
    "axes.middleware.AxesMiddleware",
]

# The chain of OCPI requests: no sessions, log-in, CSRF, messages or CSP (OCPI has its
# own token authentication and answers JSON only); HTTPS, HSTS, nosniff and the Host
# check stay.
OCPI_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "evdms.ocpi.middleware.api_headers",
]

ROOT_URLCONF = "evdms.urls"
WSGI_APPLICATION = "evdms.wsgi.application"
ASGI_APPLICATION = "evdms.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "evdms.web.context_processors.navigation",
            ],
        },
    },
    # The plain-text parts and subjects of e-mails (evdms.notifications.services): text,
    # not HTML, so nothing is escaped ("Walk & Co's", not "Walk &amp; Co&#x27;s").
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "NAME": "text",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# --- database -----------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'evdms.sqlite3'}")
# Connections are kept between requests (a web server thread reuses its own): opening
# one per request, with SQLite's PRAGMAs and closing it again, was a third of a
# real-time OCPI authorisation's CPU. Checked before reuse, so a restarted PostgreSQL
# costs one reconnection, not an error. 0 opens one per request.
_database = dj_database_url.parse(
    DATABASE_URL,
    conn_max_age=env_int("EVDMS_DB_CONN_MAX_AGE", 600, minimum=0),
    conn_health_checks=True,
)
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE transactions take
    # the write lock up front, so two processes never deadlock upgrading a read lock.
    # SQLite's own page cache per connection (its default is 2 MB): the monthly runs
    # read and write indexes of millions of sessions and lines, whose pages a small
    # cache reads again and again. Pages are taken only as they are used.
    _sqlite_cache_kib = env_int("EVDMS_SQLITE_CACHE_MIB", 64, minimum=2) * 1024
    _database["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            f" PRAGMA cache_size=-{_sqlite_cache_kib};"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif _database["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation of queries: PostgreSQL compiles any query it estimates to be
    # costly, which for the monthly runs' chunk queries took longer (over 100 ms each)
    # than running them; our queries are index look-ups and short scans.
    _options = _database.setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
else:
    raise ConfigurationError("DATABASE_URL must be a sqlite:// or postgres:// URL")
if _database["ENGINE"] == "django.db.backends.sqlite3" and TESTING:
    # A file, not Django's in-memory default: threads sharing an in-memory database get
    # "table is locked" at once instead of waiting, so the gateway's thread and the
    # test's reads collided under load. A file in WAL mode behaves as production does.
    _database["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and authentication ----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "evdms.accounts.backends.EmailBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3  # a reset link lives three hours
ADMIN_INVITATION_DAYS = env_int("EVDMS_ADMIN_INVITATION_DAYS", 7, minimum=1)

# Lockout after repeated failed log-ins, per account name (so an attacker cannot lock
# out a whole office behind one IP address, and cannot try many passwords on one).
AXES_FAILURE_LIMIT = env_int("EVDMS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("EVDMS_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_FORM_FIELD = "username"
# Counted per account, not per spelling of its address (users are stored lower-cased).
AXES_USERNAME_CALLABLE = "evdms.accounts.backends.lockout_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "evdms.accounts.views.locked_out"
AXES_VERBOSE = False
# Two-factor authentication (django-otp: TOTP apps and single-use recovery codes).
# Platform operators must use it in production; elsewhere only when this says so, so
# the demo's operator logs in with the password alone.
OPERATORS_NEED_TWO_FACTOR = PRODUCTION or env_bool("EVDMS_OPERATOR_TWO_FACTOR", False)
OTP_TOTP_ISSUER = env_str("EVDMS_TOTP_ISSUER", "evdms")
# Operators remove a device in the Django admin (a lost phone and lost recovery codes),
# but never read anyone's secret key or recovery codes there.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Minutes between the password and the code before the password must be given again.
TWO_FACTOR_LOGIN_MINUTES = 5
RECOVERY_CODE_COUNT = 10

# Whose address is a request's client: behind a proxy the proxy's own address is the
# peer, and the client is the address the proxy appended last to X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "evdms.accounts.backends.client_ip"
# Password-reset links per address and per client address in an hour; the same for
# addresses with and without an account, so the limit tells nothing about either.
PASSWORD_RESET_LIMIT_PER_ADDRESS = env_int("EVDMS_PASSWORD_RESET_PER_ADDRESS", 3, minimum=1)
PASSWORD_RESET_LIMIT_PER_CLIENT = env_int("EVDMS_PASSWORD_RESET_PER_CLIENT", 10, minimum=1)
PASSWORD_RESET_LIMIT_WINDOW = timedelta(hours=1)
# axes warns that locking by username alone lets an attacker rotate IP addresses; that
# is the point here: the account is what we protect, whatever address the tries come from.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("EVDMS_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("EVDMS_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("EVDMS_HSTS_PRELOAD", False)
    if BEHIND_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")

# No inline script or style anywhere: everything comes from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- encryption of bank details at rest (see evdms/accounts/field_crypto.py) ----
FIELD_ENCRYPTION_KEYS = env_list("EVDMS_FIELD_ENCRYPTION_KEYS", [])
if PRODUCTION and not FIELD_ENCRYPTION_KEYS:
    raise ConfigurationError(
        "EVDMS_FIELD_ENCRYPTION_KEYS must be set in production (a Fernet key: "
        'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
    )

# --- SEPA payouts: the platform's account that pays reimbursements ---------------
# The examples of IBANs that documentation (ours included) and test data use: a payout
# file naming one of them would send real drivers' money from an account nobody owns.
SAMPLE_IBANS = frozenset(
    {
        "NL91ABNA0417164300",  # our own development default
        "NL02ABNA0123456789",
        "NL20INGB0001234567",
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "GB29NWBK60161331926819",
        "FR1420041010050500013M02606",
        "BE68539007547034",
        "AT611904300234573201",
        "CH9300762011623852957",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
        "LU280019400644750000",
    }
)
SEPA_DEBTOR_NAME = env_str("EVDMS_SEPA_DEBTOR_NAME", "evdms Platform B.V.")
if PRODUCTION:
    SEPA_DEBTOR_IBAN = env_str("EVDMS_SEPA_DEBTOR_IBAN")
    # No sample bank either: the BIC is optional in SEPA, the bank finds it by the IBAN.
    SEPA_DEBTOR_BIC = env_str("EVDMS_SEPA_DEBTOR_BIC", "")
else:
    SEPA_DEBTOR_IBAN = env_str("EVDMS_SEPA_DEBTOR_IBAN", "NL91ABNA0417164300")
    SEPA_DEBTOR_BIC = env_str("EVDMS_SEPA_DEBTOR_BIC", "ABNANL2A")
SEPA_DEBTOR_IBAN, SEPA_DEBTOR_BIC = checked_bank_account(
    "EVDMS_SEPA_DEBTOR_IBAN", SEPA_DEBTOR_IBAN, "EVDMS_SEPA_DEBTOR_BIC", SEPA_DEBTOR_BIC
)
if PRODUCTION and SEPA_DEBTOR_IBAN in SAMPLE_IBANS:
    raise ConfigurationError(
        f"EVDMS_SEPA_DEBTOR_IBAN={SEPA_DEBTOR_IBAN} is a well-known sample account; "
        "give the IBAN of the platform's own account that pays the reimbursements"
    )

# --- invoicing: the platform operator, who invoices every organisation (evdms/invoicing)
# Its legal name, address, VAT number and the account invoices are paid to. Required in
# production; development defaults otherwise (sample account, a checksum-valid VAT number).
if PRODUCTION:
    INVOICE_SELLER_NAME = env_str("EVDMS_INVOICE_SELLER_NAME")
    INVOICE_SELLER_VAT_NUMBER = env_str("EVDMS_INVOICE_SELLER_VAT_NUMBER")
    INVOICE_SELLER_IBAN = env_str("EVDMS_INVOICE_SELLER_IBAN")
else:
    INVOICE_SELLER_NAME = env_str("EVDMS_INVOICE_SELLER_NAME", "evdms Platform B.V.")
    INVOICE_SELLER_VAT_NUMBER = env_str("EVDMS_INVOICE_SELLER_VAT_NUMBER", "NL004495445B01")
    INVOICE_SELLER_IBAN = env_str("EVDMS_INVOICE_SELLER_IBAN", SEPA_DEBTOR_IBAN)
INVOICE_SELLER_ADDRESS = env_str("EVDMS_INVOICE_SELLER_ADDRESS", "Stationsplein 1")[:100]
INVOICE_SELLER_POSTCODE = env_str("EVDMS_INVOICE_SELLER_POSTCODE", "1012 AB")[:20]
INVOICE_SELLER_CITY = env_str("EVDMS_INVOICE_SELLER_CITY", "Amsterdam")[:60]
INVOICE_SELLER_COUNTRY = env_str("EVDMS_INVOICE_SELLER_COUNTRY", "NL").upper()
INVOICE_SELLER_EMAIL = env_str("EVDMS_INVOICE_SELLER_EMAIL", "invoices@example.com")
INVOICE_SELLER_BIC = env_str("EVDMS_INVOICE_SELLER_BIC", "")
INVOICE_SELLER_IBAN, INVOICE_SELLER_BIC = checked_bank_account(
    "EVDMS_INVOICE_SELLER_IBAN", INVOICE_SELLER_IBAN, "EVDMS_INVOICE_SELLER_BIC", INVOICE_SELLER_BIC
)
if PRODUCTION and INVOICE_SELLER_IBAN in SAMPLE_IBANS:
    raise ConfigurationError(
        f"EVDMS_INVOICE_SELLER_IBAN={INVOICE_SELLER_IBAN} is a well-known sample account; "
        "give the IBAN of the platform's own account that invoices are paid to"
    )
INVOICE_SELLER_VAT_NUMBER = checked_vat_number(
    "EVDMS_INVOICE_SELLER_VAT_NUMBER", INVOICE_SELLER_VAT_NUMBER, INVOICE_SELLER_COUNTRY
)
# The standard VAT rate of the seller's country (percent), and days until an invoice is due.
INVOICE_STANDARD_VAT_RATE = env_decimal("EVDMS_INVOICE_STANDARD_VAT_RATE", "21.00")
INVOICE_PAYMENT_DAYS = env_int("EVDMS_INVOICE_PAYMENT_DAYS", 30, minimum=1)

# --- the OCPP gateway ----------------------------------------------------------------
OCPP_HOST = env_str("EVDMS_OCPP_HOST", "127.0.0.1")
OCPP_PORT = env_int("EVDMS_OCPP_PORT", 9000, minimum=1)
# Largest message a charger may send; a larger one closes its connection (code 1009).
# Most are a few hundred bytes (MeterValues); the largest legitimate ones are 1.6
# StopTransaction with a long session's transactionData (no limit in the schema; signed
# meter values ~1-2 kB each) and 2.0.1 reports, whose fields the schemas cap at 2,500-
# 10,000 characters each (signed meter data, certificates, 15118 EXI), sent in chunks.
# 256 KiB leaves room for those; 1 MiB (what it was) let each junk frame cost megabytes.
OCPP_MAX_MESSAGE_BYTES = env_int("EVDMS_OCPP_MAX_MESSAGE_BYTES", 262_144, minimum=16_384)
# Protocol issues (frames the gateway could not accept) are kept this many days, and at
# most this many per charger and hour; the rest of that hour is only counted.
PROTOCOL_ISSUE_DAYS = env_int("EVDMS_PROTOCOL_ISSUE_DAYS", 30, minimum=1)
PROTOCOL_ISSUES_PER_CHARGER_HOUR = env_int("EVDMS_PROTOCOL_ISSUES_PER_CHARGER_HOUR", 60, minimum=1)

# --- OCPI 2.2.1: the platform as an eMSP (evdms/ocpi) -------------------------------
# Our party: ISO 3166 alpha-2 country code and the 3-character party id (as registered
# for eMSP ids); required in production, development defaults otherwise. Our OCPI URLs
# are built from SITE_URL (<SITE_URL>/ocpi/versions).
if PRODUCTION:
    OCPI_COUNTRY_CODE = env_str("EVDMS_OCPI_COUNTRY_CODE")
    OCPI_PARTY_ID = env_str("EVDMS_OCPI_PARTY_ID")
else:
    OCPI_COUNTRY_CODE = env_str("EVDMS_OCPI_COUNTRY_CODE", "NL")
    OCPI_PARTY_ID = env_str("EVDMS_OCPI_PARTY_ID", "EVD")
OCPI_COUNTRY_CODE, OCPI_PARTY_ID = checked_ocpi_party(
    "EVDMS_OCPI_COUNTRY_CODE", OCPI_COUNTRY_CODE, "EVDMS_OCPI_PARTY_ID", OCPI_PARTY_ID
)
OCPI_BUSINESS_NAME = env_str("EVDMS_OCPI_BUSINESS_NAME", "evdms")[:100]
OCPI_BUSINESS_WEBSITE = env_str("EVDMS_OCPI_BUSINESS_WEBSITE", SITE_URL)
if OCPI_BUSINESS_WEBSITE and not OCPI_BUSINESS_WEBSITE.startswith(("https://", "http://")):
    raise ConfigurationError("EVDMS_OCPI_BUSINESS_WEBSITE must be an http(s) URL (or empty)")
# Seconds we wait for a partner's OCPI server (its versions during the handshake).
OCPI_PEER_TIMEOUT = env_int("EVDMS_OCPI_PEER_TIMEOUT", 10, minimum=1)

# --- bounds on what chargers report (evdms.charging.bounds) ---------------------------
# A session above either is kept but held out of reimbursement until an admin reviews it.
MAX_SESSION_WH = env_int("EVDMS_MAX_SESSION_WH", 200_000, minimum=1)
MAX_CHARGER_POWER_W = env_int("EVDMS_MAX_CHARGER_POWER_W", 22_000, minimum=1)
# How far ahead of our clock a charger's timestamp may be before it is not believed.
MAX_CLOCK_SKEW_HOURS = env_int("EVDMS_MAX_CLOCK_SKEW_HOURS", 24, minimum=1)

# --- request limits -----------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("EVDMS_MAX_REQUEST_BYTES", 2_621_440, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# --- internationalisation -----------------------------------------------------------
# English (British) is the source language; the message files of each app's locale/
# folder translate it. Which one a page is in: evdms.ui.language.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [
    ("en-gb", "English"),
    ("nl", "Nederlands"),
    ("de", "Deutsch"),
    ("fr", "Français"),
]
# The platform's zone: the default of every organisation's own (Settings page).
TIME_ZONE = env_str("EVDMS_TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
USE_TZ = True
# Local date formats, one way everywhere: templates name them (date:"DATETIME_FORMAT").
FORMAT_MODULE_PATH = ["evdms.formats"]

# --- static and media ---------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Outside production whitenoise serves straight from the apps' static folders, so no
# collectstatic step is needed to run or test.
WHITENOISE_USE_FINDERS = not PRODUCTION
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

# --- background tasks ---------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.DatabaseBackend"
        )
    }
}

# --- e-mail -------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("EVDMS_FROM_EMAIL", "evdms <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# In development and tests e-mail stays in the outbox table (open it at /dev/outbox/);
# production sends over SMTP.
EMAIL_BACKEND = env_str(
    "EVDMS_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.locmem.EmailBackend",
)
EMAIL_HOST = env_str("EVDMS_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("EVDMS_SMTP_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EVDMS_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("EVDMS_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EVDMS_SMTP_STARTTLS", False)
EMAIL_USE_SSL = env_bool("EVDMS_SMTP_SSL", False)
EMAIL_TIMEOUT = env_int("EVDMS_SMTP_TIMEOUT", 30, minimum=1)
DEV_OUTBOX = not PRODUCTION

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("EVDMS_LOG_LEVEL", "INFO")},
    # The ocpp package logs every frame at INFO: far too much for a gateway in production.
    "loggers": {
        "axes": {"level": "WARNING"},
        "ocpp": {"level": "WARNING"},
        "websockets": {"level": "WARNING"},
    },
}
