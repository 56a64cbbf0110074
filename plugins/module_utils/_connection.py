# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file is private to the qualys.certview collection. Import the public names from
# ansible_collections.qualys.certview.plugins.module_utils.api instead, because this file may
# change without notice.

"""Connection options shared by all modules: argument spec, platform table and late environment fallbacks."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleFallbackNotFound, env_fallback
from ansible.module_utils.parsing.convert_bool import boolean

# Gateway URL of each Qualys platform, from the Qualys platform identification page.
PLATFORMS = {
    "US1": "https://gateway.qg1.apps.qualys.com",
    "US2": "https://gateway.qg2.apps.qualys.com",
    "US3": "https://gateway.qg3.apps.qualys.com",
    "US4": "https://gateway.qg4.apps.qualys.com",
    "EU1": "https://gateway.qg1.apps.qualys.eu",
    "EU2": "https://gateway.qg2.apps.qualys.eu",
    "EU3": "https://gateway.qg3.apps.qualys.it",
    "IN1": "https://gateway.qg1.apps.qualys.in",
    "CA1": "https://gateway.qg1.apps.qualys.ca",
    "AE1": "https://gateway.qg1.apps.qualys.ae",
    "UK1": "https://gateway.qg1.apps.qualys.co.uk",
    "AU1": "https://gateway.qg1.apps.qualys.com.au",
    "KSA1": "https://gateway.qg1.apps.qualysksa.com",
}

ENV_GATEWAY_URL = "QUALYS_GATEWAY_URL"
ENV_PLATFORM = "QUALYS_PLATFORM"
ENV_USERNAME = "QUALYS_USERNAME"
ENV_PASSWORD = "QUALYS_PASSWORD"
ENV_TOKEN = "QUALYS_TOKEN"
ENV_VALIDATE_CERTS = "QUALYS_VALIDATE_CERTS"
ENV_CA_PATH = "QUALYS_CA_PATH"
ENV_TIMEOUT = "QUALYS_TIMEOUT"

# token and password may both be set, because a play may set a token through module_defaults
# while a task sets another account's username and password. The task's password wins then.
CONNECTION_MUTUALLY_EXCLUSIVE = [("platform", "gateway_url")]
CONNECTION_REQUIRED_TOGETHER = [("username", "password")]

DEFAULT_TIMEOUT = 30
# Range of the timeout option in seconds. socket.settimeout() raises OverflowError above about
# 9.2 * 10**9 seconds, because CPython stores timeouts as 64-bit nanoseconds (checked with 3.11).
# An hour is far more than any API call needs.
TIMEOUT_RANGE = (1, 3600)

_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

# Environment variables whose value the argument spec fallbacks rejected, mapped to that value.
# The fallbacks cannot fail the module, so resolve_connection() reports these. Each module run
# is a process of its own, so the record belongs to the current run.
_INVALID_ENVIRONMENT = {}


def connection_argument_spec():
    """Return the argument spec of the connection options, a new dict on every call.

    platform, gateway_url, username, password and token have no ``fallback`` on purpose:
    resolve_connection() reads their environment variables after argument parsing, because
    an environment value must neither trip the mutual exclusion rules nor mix with task values.
    """
    return dict(
        platform=dict(type="str", choices=sorted(PLATFORMS)),
        gateway_url=dict(type="str"),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        token=dict(type="str", no_log=True),
        validate_certs=dict(type="bool", default=True, fallback=(_validate_certs_fallback, [ENV_VALIDATE_CERTS])),
        ca_path=dict(type="path", fallback=(env_fallback, [ENV_CA_PATH])),
        timeout=dict(type="int", default=DEFAULT_TIMEOUT, fallback=(_timeout_fallback, [ENV_TIMEOUT])),
    )


def _parse_env_bool(text):
    return boolean(text.strip(), strict=True)


def _parse_env_timeout(text):
    text = text.strip()
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(text)
    timeout = int(text)
    if not TIMEOUT_RANGE[0] <= timeout <= TIMEOUT_RANGE[1]:
        raise ValueError(text)
    return timeout


def _checked_env_fallback(name, parse):
    """Return the parsed value of an environment variable for an argument spec fallback.

    An unset variable raises AnsibleFallbackNotFound. So does an invalid value, which is recorded
    for resolve_connection(), because Ansible's own type check would reject it with a message that
    does not name the variable. The option then keeps its default until resolve_connection() fails.
    An empty value is invalid, as it is for Ansible's own type check.
    """
    _INVALID_ENVIRONMENT.pop(name, None)
    if name not in os.environ:
        raise AnsibleFallbackNotFound
    text = os.environ[name]
    try:
        return parse(text)
    except (TypeError, ValueError):
        _INVALID_ENVIRONMENT[name] = text
        raise AnsibleFallbackNotFound from None


def _validate_certs_fallback(name):
    return _checked_env_fallback(name, _parse_env_bool)


def _timeout_fallback(name):
    return _checked_env_fallback(name, _parse_env_timeout)


def _env(name):
    """Return an environment variable with surrounding whitespace removed. Unset and empty variables give None."""
    value = os.environ.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _blank_to_none(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _platform_url(module, name, source):
    url = PLATFORMS.get(name.strip().upper())
    if url is None:
        module.fail_json(
            msg="Invalid %s %r: valid platforms are %s. For a private cloud platform set the gateway URL instead."
            % (source, name, ", ".join(sorted(PLATFORMS)))
        )
    return url


def validate_gateway_url(module, url, source):
    """Return the gateway URL without trailing slashes, or fail when it is not a plain http(s) URL."""
    example = "such as https://gateway.qg1.apps.qualys.com"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        # The URL is not repeated in messages until it is known to carry no user information.
        module.fail_json(msg="Invalid %s: %s. Set an http:// or https:// URL %s." % (source, exc, example))
    if "@" in parts.netloc:
        module.fail_json(msg="Invalid %s: it contains user information (user:password@). Set the username and password options instead." % source)
    try:
        port = parts.port
    except ValueError as exc:
        module.fail_json(msg="Invalid %s %r: %s. Set an http:// or https:// URL %s." % (source, url, exc, example))
    if port == 0:
        module.fail_json(msg="Invalid %s %r: port 0 cannot be connected to." % (source, url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        module.fail_json(msg="Invalid %s %r: it must be an http:// or https:// URL with a host name, %s." % (source, url, example))
    if parts.query or parts.fragment:
        module.fail_json(msg="Invalid %s %r: it must not contain a query string or a fragment." % (source, url))
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        warn = getattr(module, "warn", None)
        if warn is not None:
            warn(
                "%s uses plain http:// for %s, so the password and tokens cross the network unencrypted. Use https:// unless this is a test server."
                % (source, parts.hostname)
            )
    return url.rstrip("/")


def _resolve_gateway(module, params):
    gateway_url = _blank_to_none(params.get("gateway_url"))
    if gateway_url is not None:
        return validate_gateway_url(module, gateway_url, "gateway_url")
    platform = _blank_to_none(params.get("platform"))
    if platform is not None:
        return _platform_url(module, platform, "platform")
    gateway_url = _env(ENV_GATEWAY_URL)
    if gateway_url is not None:
        return validate_gateway_url(module, gateway_url, ENV_GATEWAY_URL)
    platform = _env(ENV_PLATFORM)
    if platform is not None:
        return _platform_url(module, platform, ENV_PLATFORM)
    module.fail_json(msg="Missing connection option: set gateway_url or platform, or the environment variable %s or %s." % (ENV_GATEWAY_URL, ENV_PLATFORM))
    return None


def _resolve_credentials(module, params, require_credentials):
    username = _blank_to_none(params.get("username"))
    password = params.get("password") or None
    token = _blank_to_none(params.get("token"))

    if token is not None and token != params.get("token"):
        module.no_log_values.add(token)

    if username is not None or password is not None or token is not None:
        # The task sets credentials, so the environment is not consulted for any of them.
        if username is not None and password is None:
            module.fail_json(msg="Missing option password: username is set but password is not. Set password, or set token instead of username.")
        if password is not None and username is None:
            module.fail_json(msg="Missing option username: password is set but username is not.")
        if password is not None:
            # The token is not sent, so that an account given to one task, such as an approver's,
            # wins over a token that module_defaults sets for every task.
            token = None
        return username, password, token

    username = _env(ENV_USERNAME)
    # The password is taken as it is, because spaces may be part of it.
    password = os.environ.get(ENV_PASSWORD) or None
    token = _env(ENV_TOKEN)
    for secret in (password, os.environ.get(ENV_TOKEN), token):
        if secret:
            module.no_log_values.add(secret)

    if token is None and username is not None and password is None:
        module.fail_json(
            msg="Missing credentials: environment variable %s is set but %s is not. Set both, set %s, or set username and password in the task."
            % (ENV_USERNAME, ENV_PASSWORD, ENV_TOKEN)
        )
    if token is None and password is not None and username is None:
        module.fail_json(msg="Missing credentials: environment variable %s is set but %s is not. Set both." % (ENV_PASSWORD, ENV_USERNAME))
    if password is not None and username is None:
        # A token is set, so the unusable password is dropped instead of failing.
        password = None
    if require_credentials and token is None and password is None:
        module.fail_json(
            msg="Missing credentials: set username and password, or token, in the task or through the environment variables %s and %s, or %s."
            % (ENV_USERNAME, ENV_PASSWORD, ENV_TOKEN)
        )
    return username, password, token


def _fail_on_invalid_environment(module):
    checks = (
        (ENV_VALIDATE_CERTS, "validate_certs", True, "true or false"),
        (ENV_TIMEOUT, "timeout", DEFAULT_TIMEOUT, "a whole number of seconds from %d to %d" % TIMEOUT_RANGE),
    )
    for name, option, default, expected in checks:
        text = _INVALID_ENVIRONMENT.get(name)
        # A record whose variable has changed, or whose option no longer has its default, comes
        # from an earlier argument check in the same process, which only happens in tests.
        if text is not None and os.environ.get(name) == text and module.params.get(option) == default:
            module.fail_json(msg="Invalid %s %r: set %s." % (name, text, expected))


def resolve_connection(module, require_credentials=True):
    """Return the connection settings of a module run, with environment fallbacks applied.

    Task values win over environment variables. A gateway_url or platform set in the task is
    used as given. Otherwise QUALYS_GATEWAY_URL wins over QUALYS_PLATFORM. When the task sets
    any of username, password or token, only the task's credentials are used, and when it sets
    username and password, its token is ignored. Otherwise the credentials come from
    QUALYS_USERNAME, QUALYS_PASSWORD and QUALYS_TOKEN. When the environment provides both a
    token and a password, the token is sent first and the password is used to get a new token if
    it is rejected. Secrets read from the environment are added to ``module.no_log_values``.
    Every problem ends the module through ``module.fail_json``, including an invalid
    QUALYS_VALIDATE_CERTS or QUALYS_TIMEOUT that the argument spec fallbacks recorded.
    With ``require_credentials=False``, missing credentials are not an error, for callers that
    bring their own.

    Returns a dict with gateway_url, username, password, token, validate_certs, ca_path and timeout.
    """
    params = module.params
    _fail_on_invalid_environment(module)
    gateway_url = _resolve_gateway(module, params)
    username, password, token = _resolve_credentials(module, params, require_credentials)

    validate_certs = params.get("validate_certs")
    if validate_certs is None:
        validate_certs = True
    ca_path = _blank_to_none(params.get("ca_path"))
    if ca_path is not None and validate_certs and not os.path.exists(ca_path):
        module.fail_json(msg="Invalid ca_path %r: no such file or directory. Set it to a PEM CA bundle file or a directory of CA certificates." % ca_path)

    timeout = params.get("timeout")
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    if not TIMEOUT_RANGE[0] <= timeout <= TIMEOUT_RANGE[1]:
        module.fail_json(msg="Invalid timeout %r: set a number of seconds from %d to %d." % ((timeout,) + TIMEOUT_RANGE))

    return dict(
        gateway_url=gateway_url,
        username=username,
        password=password,
        token=token,
        validate_certs=bool(validate_certs),
        ca_path=ca_path,
        timeout=timeout,
    )
