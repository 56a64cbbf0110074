# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""REST client for the Qualys Certificate View enrollment API, shared by the qualys.certview modules.

Modules build a client with ``client_from_module(module)`` and call one method per API call. Every
failure of a request is raised as a ``CertViewError`` subclass whose ``to_result()`` gives the keys
for ``module.fail_json``. Arguments that modules validate before calling raise ValueError instead,
because they are programming errors: an empty order uuid, an unknown order status, an empty
status comment and a wait without target statuses.
"""

from __future__ import annotations

import email.utils
import http.client
import math
import re
import ssl
import time
import traceback
import warnings
from datetime import datetime, timezone
from urllib.parse import quote, quote_plus, urlsplit

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.qualys.certview.plugins.module_utils._connection import (
    CONNECTION_MUTUALLY_EXCLUSIVE,
    CONNECTION_REQUIRED_TOGETHER,
    ENV_CA_PATH,
    ENV_GATEWAY_URL,
    ENV_PASSWORD,
    ENV_PLATFORM,
    ENV_TIMEOUT,
    ENV_TOKEN,
    ENV_USERNAME,
    ENV_VALIDATE_CERTS,
    PLATFORMS,
    connection_argument_spec,
    resolve_connection,
)
from ansible_collections.qualys.certview.plugins.module_utils._errors import (
    FIND_ORDER_HINT,
    CertViewAPIError,
    CertViewError,
    CertViewTransportError,
    CertViewWaitError,
    OrderMayExistError,
    append_hint,
    decode_body,
    decode_json_response,
    error_from_response,
    parse_error_body,
    reason_phrase,
)

try:
    import requests
    from urllib3.exceptions import ConnectTimeoutError, InsecureRequestWarning, NewConnectionError, ReadTimeoutError
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

__all__ = [
    "AUTH_PATH",
    "CERTIFICATES_PATH",
    "CONNECTION_MUTUALLY_EXCLUSIVE",
    "CONNECTION_REQUIRED_TOGETHER",
    "ENROLLMENT_PATH",
    "ENV_CA_PATH",
    "ENV_GATEWAY_URL",
    "ENV_PASSWORD",
    "ENV_PLATFORM",
    "ENV_TIMEOUT",
    "ENV_TOKEN",
    "ENV_USERNAME",
    "ENV_VALIDATE_CERTS",
    "FIND_ORDER_HINT",
    "HAS_REQUESTS",
    "ORDERS_PATH",
    "PLATFORMS",
    "REQUESTS_IMPORT_ERROR",
    "CertViewAPIError",
    "CertViewClient",
    "CertViewError",
    "CertViewTransportError",
    "CertViewWaitError",
    "OrderMayExistError",
    "client_from_module",
    "connection_argument_spec",
    "parse_error_body",
    "parse_retry_after",
    "require_requests",
    "resolve_connection",
]

AUTH_PATH = "/auth"
ENROLLMENT_PATH = "/certview/rest/public/v1/certificates/enrollment/digicert"
ORDERS_PATH = ENROLLMENT_PATH + "/orders"
CERTIFICATES_PATH = "/certview/v2/certificates"

# Response statuses that mean "try again later", for any request that is safe to repeat.
RETRY_STATUSES = (429, 502, 503, 504)
# A create-order POST is repeated only after a status which shows that the server did not act
# on it. A 429 rejects the request before handling.
CREATE_RETRY_STATUSES = (429,)
# After these statuses an order may exist. A 502, 503 or 504 may come from a proxy that had
# already forwarded the create-order POST, and a 500 may come after the order was stored.
CREATE_UNCERTAIN_STATUSES = (500, 502, 503, 504)

ORDER_STATUS_CHANGES = ("APPROVED", "REJECTED", "CANCELLED")
# Order statuses in lifecycle order. REJECTED and CANCELLED end an order outside this line.
ORDER_LIFECYCLE = ("SUBMITTED", "APPROVED", "POSTED", "ISSUED")

TOKEN_LIFETIME_HINT = "Certificate View tokens are valid for 4 hours."

TLS_HINT = "Set ca_path to the CA certificate that signed the gateway's certificate, or set validate_certs to false to skip verification (insecure)."

# Secrets shorter than this are not masked in messages, because masking them would garble
# ordinary words without hiding anything.
_MIN_MASKED_SECRET_LENGTH = 3
_MASK = "********"

# Classes of transport failures, from the point of view of a request that must not be sent twice.
_NOT_SENT = "not sent"  # failed while connecting, before any byte of the request left
_MAYBE_SENT = "maybe sent"  # the request may have reached the server, but no response arrived
_TLS_SETUP = "tls setup"  # a TLS handshake failure that no retry can fix
_FATAL = "fatal"  # a local problem such as an invalid URL or header

# ssl.SSLError reasons that can only come from the handshake, which precedes the request.
_TLS_SETUP_REASONS = ("CERTIFICATE_VERIFY_FAILED", "WRONG_VERSION_NUMBER", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE")

_TOKEN_PATTERN = re.compile(r"[!-~]+")


def require_requests(module):
    """End the module with the standard missing-library message when requests cannot be imported."""
    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)


def parse_retry_after(value, now=None):
    """Return the delay in seconds that a Retry-After header requests, or None when it is invalid.

    The header is either a number of seconds or an HTTP-date. A date in the past gives 0.
    ``now`` is the current time as a POSIX timestamp (default: time.time()).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        if not math.isfinite(seconds) or seconds < 0:
            return None
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    if now is None:
        now = time.time()
    return max(0.0, (when - datetime.fromtimestamp(now, timezone.utc)).total_seconds())


def _exception_chain(exc):
    """Yield ``exc`` and the exceptions it wraps through args, reason, original_error and __cause__."""
    pending = [exc]
    seen = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for attribute in ("reason", "original_error", "__cause__"):
            nested = getattr(current, attribute, None)
            if isinstance(nested, BaseException):
                pending.append(nested)
        for argument in getattr(current, "args", ()):
            if isinstance(argument, BaseException):
                pending.append(argument)


def _innermost_text(chain, fallback):
    """Return the text of the innermost socket or http.client error in a chain, such as "[Errno 111] Connection refused"."""
    text = None
    for exc in chain:
        if isinstance(exc, requests.exceptions.RequestException):
            continue
        if isinstance(exc, (OSError, http.client.HTTPException)):
            text = str(exc) or type(exc).__name__
    if text is None:
        text = str(fallback) or type(fallback).__name__
    if len(text) > 300:
        text = text[:297] + "..."
    return text


def _is_tls_setup_failure(chain):
    for exc in chain:
        # urllib3 raises its own CertificateError (a ValueError) when it checks host names itself.
        if isinstance(exc, ssl.SSLCertVerificationError) or type(exc).__name__ == "CertificateError":
            return True
        if isinstance(exc, ssl.SSLError):
            reason = getattr(exc, "reason", None) or ""
            if reason in _TLS_SETUP_REASONS or "HANDSHAKE" in reason:
                return True
    return False


def classify_transport_error(exc):
    """Return the class of a requests exception: _NOT_SENT, _MAYBE_SENT, _TLS_SETUP or _FATAL.

    This is how requests 2.x on urllib3 1.26 and 2.x raises each case, with requests' default of
    no urllib3 retries. A refused connection or a failed name lookup is a ConnectionError that
    wraps MaxRetryError, whose reason is urllib3's NewConnectionError. A connect timeout is
    ConnectTimeout. Both happen before the request is written.
    A read timeout is ReadTimeout, or a ConnectionError that wraps ReadTimeoutError when it hits
    while the body is read. A connection closed or reset after the request was written is a
    ConnectionError that wraps ProtocolError (RemoteDisconnected, ConnectionResetError). A broken
    body is ChunkedEncodingError or ContentDecodingError.
    """
    chain = list(_exception_chain(exc))
    if _is_tls_setup_failure(chain):
        return _TLS_SETUP
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return _NOT_SENT
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return _MAYBE_SENT
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        # NewConnectionError subclasses ConnectTimeoutError in urllib3 1.26 and 2.x. Both mean
        # that no connection was made.
        if any(isinstance(item, (NewConnectionError, ConnectTimeoutError)) for item in chain):
            return _NOT_SENT
        return _MAYBE_SENT
    return _FATAL


class CertViewClient:
    """Client for the Certificate View enrollment API over one requests Session (keep-alive).

    With a token, the client sends it as it is (surrounding whitespace removed). With username
    and password, it gets a token from POST /auth on the first call, and gets a new one once per
    call when the API responds with 401. Requests that are safe to repeat are retried on 429, 502,
    503, 504 and connection failures, with capped exponential backoff. The create-order POST is
    repeated only when it certainly was not processed: after a 429, after a 401 (with a new token)
    and after a failure to connect. A 500, 502, 503 or 504 response to it raises OrderMayExistError.

    The client masks the password and tokens, as sent and URL-encoded, in each response body
    before it parses or shortens it, and again in error messages and log lines. Secrets shorter
    than 3 characters are not masked.

    ``log`` receives one line per retry and per token renewal, never a secret. ``sleep`` is
    called with the delay in seconds before each retry and poll, so tests can replace it.
    """

    def __init__(
        self,
        gateway_url,
        username=None,
        password=None,
        token=None,
        validate_certs=True,
        ca_path=None,
        timeout=30,
        max_retries=5,
        backoff_base=1.0,
        backoff_max=30.0,
        log=None,
        sleep=time.sleep,
        session=None,
    ):
        if not HAS_REQUESTS:
            raise CertViewError(missing_required_lib("requests"))
        self.gateway_url = gateway_url.rstrip("/")
        self._username = username
        self._password = password
        self._secrets = set()
        for secret in (password, token):
            self._remember_secret(secret)
        if token is not None:
            token = token.strip()
            self._check_token(token, "The token given")
        self._token = token or None
        self._remember_secret(self._token)
        self.validate_certs = bool(validate_certs)
        if not validate_certs:
            self._verify = False
        elif ca_path:
            self._verify = ca_path
        else:
            self._verify = True
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._log_function = log
        self._sleep = sleep
        self._session = session if session is not None else requests.Session()
        self._netloc = urlsplit(self.gateway_url).netloc
        self._user_agent = "qualys.certview-ansible-collection python-requests/%s" % requests.__version__

    # Housekeeping

    def close(self):
        """Close the session and its pooled connections."""
        self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _remember_secret(self, secret):
        if not secret or len(secret) < _MIN_MASKED_SECRET_LENGTH:
            return
        # A server may echo a secret as it was sent in a URL or in the form body of POST /auth.
        self._secrets.update((secret, quote(secret, safe=""), quote_plus(secret)))

    def _mask(self, text):
        """Return ``text`` with every known password and token replaced by asterisks."""
        if not text:
            return text
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, _MASK)
        return text

    def _error_from_response(self, response, method, path, **kwargs):
        return error_from_response(response, method, path, mask=self._mask, **kwargs)

    def _decode_json_response(self, response, method, path, **kwargs):
        return decode_json_response(response, method, path, mask=self._mask, **kwargs)

    def _masked(self, error):
        error.message = self._mask(error.message)
        error.error_text = self._mask(error.error_text)
        error.args = (error.message,)
        return error

    def _log(self, message):
        if self._log_function is not None:
            self._log_function(self._mask("qualys.certview: " + message))

    @staticmethod
    def _check_token(token, source):
        if not _TOKEN_PATTERN.fullmatch(token):
            # The token is not repeated, because it is a secret.
            raise CertViewError(
                "%s is not a valid token: it is empty or contains spaces or control characters (%d characters). "
                "Set the token exactly as POST /auth returned it." % (source, len(token))
            )

    # Sending with retries

    def _backoff(self, retry):
        return min(self.backoff_base * (2**retry), self.backoff_max)

    def _perform(self, method, url, headers, json, data):
        with warnings.catch_warnings():
            if self._verify is False:
                # Modules warn once that verification is off, while urllib3 would warn on every request.
                warnings.simplefilter("ignore", InsecureRequestWarning)
            return self._session.request(
                method,
                url,
                headers=headers,
                json=json,
                data=data,
                timeout=(self.timeout, self.timeout),
                verify=self._verify,
                allow_redirects=False,
            )

    def _describe_transport_error(self, exc, kind):
        chain = list(_exception_chain(exc))
        if kind == _TLS_SETUP:
            return "TLS handshake with %s failed: %s" % (self._netloc, _innermost_text(chain, exc))
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return "connecting to %s timed out after %s s" % (self._netloc, self.timeout)
        if kind == _NOT_SENT:
            return "could not connect to %s: %s" % (self._netloc, _innermost_text(chain, exc))
        if isinstance(exc, requests.exceptions.ReadTimeout) or any(isinstance(item, ReadTimeoutError) for item in chain):
            return "no response from %s within %s s (read timeout)" % (self._netloc, self.timeout)
        if kind == _MAYBE_SENT:
            return "the connection to %s broke before a complete response arrived: %s" % (self._netloc, _innermost_text(chain, exc))
        return "%s: %s" % (type(exc).__name__, _innermost_text(chain, exc))

    def _send(self, method, path, headers, json=None, data=None, creates=False):
        """Send one request, retrying where that is safe, and return (response, number of retries).

        Raises CertViewTransportError when no response arrived after the allowed retries, and
        OrderMayExistError when a create request (``creates=True``) may have reached the server.
        """
        url = self.gateway_url + path
        retry_statuses = CREATE_RETRY_STATUSES if creates else RETRY_STATUSES
        retries = 0
        while True:
            try:
                response = self._perform(method, url, headers, json, data)
            except requests.exceptions.RequestException as exc:
                kind = classify_transport_error(exc)
                description = self._describe_transport_error(exc, kind)
                if kind == _TLS_SETUP:
                    message = append_hint("%s %s failed: %s" % (method, path, description), TLS_HINT)
                    if creates:
                        message += " The request was not sent, so no order was created."
                    raise CertViewTransportError(message, method=method, path=path) from exc
                if kind == _FATAL:
                    raise CertViewTransportError("%s %s failed: %s" % (method, path, description), method=method, path=path) from exc
                if creates and kind == _MAYBE_SENT:
                    message = append_hint(
                        "%s %s failed: %s" % (method, path, description),
                        "The create request may have reached Certificate View, so an order may now exist. The request was not sent again. " + FIND_ORDER_HINT,
                    )
                    raise OrderMayExistError(
                        message,
                        method=method,
                        path=path,
                    ) from exc
                if retries >= self.max_retries:
                    message = "%s %s failed after %d attempts: %s" % (method, path, retries + 1, description)
                    if creates:
                        message = append_hint(message, "The request never reached Certificate View, so no order was created.")
                    raise CertViewTransportError(message, method=method, path=path) from exc
                delay = self._backoff(retries)
                self._log_retry(method, path, description, retries, delay)
            except OSError as exc:
                # requests raises a bare OSError before sending, for example when ca_path cannot be read.
                raise CertViewTransportError("%s %s failed before sending: %s" % (method, path, exc), method=method, path=path) from exc
            else:
                status = response.status_code
                if creates and status in CREATE_UNCERTAIN_STATUSES:
                    raise self._error_from_response(
                        response,
                        method,
                        path,
                        hint="The create request may have reached Certificate View, so an order may now exist. The request was not sent again. "
                        + FIND_ORDER_HINT,
                        error_class=OrderMayExistError,
                    )
                if status not in retry_statuses or retries >= self.max_retries:
                    return response, retries
                delay, retry_after = self._status_delay(response, retries)
                reason = "HTTP %s %s" % (status, reason_phrase(status, response.reason))
                if retry_after is not None:
                    reason += " with Retry-After %s" % retry_after
                self._log_retry(method, path, reason, retries, delay)
            self._sleep(delay)
            retries += 1

    def _status_delay(self, response, retry):
        """Return (delay, Retry-After header) for a retryable response. The header wins over backoff, up to backoff_max."""
        header = response.headers.get("Retry-After")
        seconds = parse_retry_after(header)
        if seconds is None:
            return self._backoff(retry), None
        return min(seconds, self.backoff_max), header.strip()

    def _log_retry(self, method, path, reason, retry, delay):
        self._log("%s %s: %s; retry %d of %d in %.1f s" % (method, path, reason, retry + 1, self.max_retries, delay))

    # Authentication

    def _api_headers(self):
        return {"Accept": "application/json", "Authorization": "Bearer " + self._token, "User-Agent": self._user_agent}

    def authenticate(self):
        """Get a new token from POST /auth with the username and password, store it and return it."""
        try:
            return self._authenticate()
        except CertViewError as error:
            raise self._masked(error)

    def _authenticate(self):
        if self._username is None or self._password is None:
            raise CertViewError("Cannot request a token: set username and password, or set a token.", method="POST", path=AUTH_PATH)
        data = {"username": self._username, "password": self._password, "token": "true", "permissions": "true"}
        headers = {"Accept": "text/plain, */*", "User-Agent": self._user_agent}
        response, retries = self._send("POST", AUTH_PATH, headers, data=data)
        if response.status_code == 401:
            raise self._error_from_response(
                response,
                "POST",
                AUTH_PATH,
                hint="Certificate View rejected the credentials of user %r. Check username and password." % self._username,
            )
        if response.status_code not in (200, 201):
            raise self._error_from_response(response, "POST", AUTH_PATH, hint=self._exhausted_hint(response.status_code, retries))
        token = decode_body(response.content).strip()
        if not token:
            raise CertViewAPIError(
                "POST %s failed: HTTP %s %s, but the response contained no token."
                % (AUTH_PATH, response.status_code, reason_phrase(response.status_code, response.reason)),
                http_status=response.status_code,
                method="POST",
                path=AUTH_PATH,
            )
        self._check_token(token, "The response to POST %s" % AUTH_PATH)
        self._token = token
        self._remember_secret(token)
        return token

    def _unauthorized_error(self, response, method, path, renewed):
        if renewed:
            hint = "Certificate View rejected a newly issued token as well. Check that user %r may use the Certificate View API." % self._username
        else:
            hint = (
                "The token was rejected or has expired. %s Set a new token, or set username and password so that "
                "a new token can be requested." % TOKEN_LIFETIME_HINT
            )
        return self._error_from_response(response, method, path, hint=hint)

    def _exhausted_hint(self, status, retries):
        if retries and status in RETRY_STATUSES:
            return "Gave up after %d %s." % (retries, "retry" if retries == 1 else "retries")
        return None

    # Requests

    def request(self, method, path, json=None, ok=(200,), creates=False):
        """Send an authenticated JSON request and return the decoded response, or None for an empty one.

        ``path`` starts with a slash and is relative to the gateway URL. A response whose status is
        not in ``ok`` raises CertViewAPIError. ``creates=True`` marks a request that must not be
        sent twice (the create-order POST).
        """
        try:
            return self._request(method.upper(), path, json, ok, creates)
        except CertViewError as error:
            raise self._masked(error)

    def _request(self, method, path, json, ok, creates):
        if self._token is None:
            self._authenticate()
        renewed = False
        while True:
            response, retries = self._send(method, path, self._api_headers(), json=json, creates=creates)
            status = response.status_code
            if status == 401:
                if not renewed and self._username is not None and self._password is not None:
                    self._log(
                        "%s %s: HTTP 401 Unauthorized, so the token was rejected or has expired. "
                        "Requesting a new token for user %s and sending the request once more" % (method, path, self._username)
                    )
                    self._token = None
                    self._authenticate()
                    renewed = True
                    continue
                raise self._unauthorized_error(response, method, path, renewed)
            if status not in ok:
                hint = self._exhausted_hint(status, retries)
                if 300 <= status < 400:
                    hint = "The gateway redirects to %s. Set gateway_url to the API gateway of your Qualys platform." % (
                        response.headers.get("Location") or "another URL"
                    )
                raise self._error_from_response(response, method, path, hint=hint)
            if status == 204:
                return None
            if creates:
                return self._decode_json_response(
                    response,
                    method,
                    path,
                    error_class=OrderMayExistError,
                    hint="Certificate View accepted the create request, so an order probably exists, but its uuid is unknown. " + FIND_ORDER_HINT,
                )
            return self._decode_json_response(response, method, path)

    # API calls

    @staticmethod
    def _order_path(uuid, suffix=""):
        """Return the path of an order. An empty or non-string uuid raises ValueError, so modules check the uuid first."""
        if not uuid or not isinstance(uuid, str):
            raise ValueError("an order uuid is required, got %r" % (uuid,))
        return "%s/%s%s" % (ORDERS_PATH, quote(uuid, safe=""), suffix)

    def create_order(self, payload):
        """Create an enrollment or renewal order and return it.

        The returned order is the only copy of a private key that Certificate View generated.
        """
        order = self.request("POST", ORDERS_PATH, json=payload, ok=(200, 201), creates=True)
        if not isinstance(order, dict) or not order.get("uuid"):
            raise OrderMayExistError(
                "POST %s succeeded, but the response contains no order uuid, so the order cannot be followed. %s" % (ORDERS_PATH, FIND_ORDER_HINT),
                method="POST",
                path=ORDERS_PATH,
            )
        return order

    def update_order(self, uuid, payload):
        """Replace the fields of an order that is not posted yet (full body, as for create) and return the order."""
        path = self._order_path(uuid)
        return self._expect_order(self.request("PUT", path, json=payload), "PUT", path)

    def get_order(self, uuid):
        """Return the order with this uuid."""
        path = self._order_path(uuid)
        return self._expect_order(self.request("GET", path), "GET", path)

    @staticmethod
    def _expect_order(order, method, path):
        if not isinstance(order, dict):
            raise CertViewAPIError("%s %s failed: the response is not an order object." % (method, path), method=method, path=path)
        return order

    def set_order_status(self, uuid, status, comment):
        """Approve, reject or cancel an order.

        A 409 response is accepted when the order already has the requested status, because a
        retried PUT whose first attempt went through gets exactly that response. A status outside
        ORDER_STATUS_CHANGES, an empty comment and an empty uuid raise ValueError.
        """
        status = (status or "").upper()
        if status not in ORDER_STATUS_CHANGES:
            raise ValueError("status must be one of %s, got %r" % (", ".join(ORDER_STATUS_CHANGES), status))
        if not comment:
            raise ValueError("a comment is required to change the status of an order")
        path = self._order_path(uuid, "/status")
        try:
            self.request("PUT", path, json={"status": status, "comment": comment}, ok=(200, 204))
        except CertViewAPIError as error:
            if error.http_status != 409:
                raise
            current = self.get_order(uuid)
            if str(current.get("status") or "").upper() != status:
                raise error
            self._log("PUT %s: HTTP 409 Conflict, but order %s already has status %s" % (path, uuid, status))

    def _list(self, name, key, ca):
        path = "%s/%s" % (ENROLLMENT_PATH, name)
        body = dict((field, value) for field, value in (ca or {}).items() if value is not None)
        return self._extract_list(self.request("POST", path, json=body), key, "POST", path)

    @staticmethod
    def _extract_list(decoded, key, method, path):
        if isinstance(decoded, list):
            return decoded
        if isinstance(decoded, dict):
            for name in key:
                if name in decoded:
                    value = decoded[name]
                    if value is None:
                        return []
                    if isinstance(value, list):
                        return value
        raise CertViewAPIError(
            "%s %s failed: the response has no %r list." % (method, path, key[0]),
            method=method,
            path=path,
        )

    def list_organizations(self, ca):
        """Return the DigiCert organizations of an intermediate CA (dict with certhash, commonName or serialNumber)."""
        return self._list("organizations", ("organizations",), ca)

    def list_products(self, ca):
        """Return the DigiCert products available through an intermediate CA."""
        return self._list("products", ("products",), ca)

    def list_ev_approvers(self, ca):
        """Return the DigiCert EV approvers of an intermediate CA."""
        return self._list("evApprovers", ("evApprovers",), ca)

    def list_certificates(self, filters=None, page_size=100):
        """Return all certificates of the inventory that match ``filters`` (a list of {field, value, operator}).

        Pages are requested from page 0 until an empty page arrives.
        """
        certificates = []
        previous_page = None
        page_number = 0
        while True:
            body = {"pageNumber": page_number, "pageSize": page_size}
            if filters:
                body["filter"] = {"filters": list(filters), "operation": "AND"}
            decoded = self.request("POST", CERTIFICATES_PATH, json=body)
            page = self._extract_list(decoded, ("certificates", "data", "content"), "POST", CERTIFICATES_PATH)
            if not page:
                return certificates
            if page == previous_page:
                raise CertViewAPIError(
                    "POST %s failed: page %d repeats page %d, so the server ignores pageNumber. The listing stopped."
                    % (CERTIFICATES_PATH, page_number, page_number - 1),
                    method="POST",
                    path=CERTIFICATES_PATH,
                )
            certificates.extend(page)
            previous_page = page
            page_number += 1

    # Waiting

    @staticmethod
    def _reached(status, targets):
        """Return whether ``status`` is a target, or lies past a target on the SUBMITTED..ISSUED line."""
        if status in targets:
            return True
        if status not in ORDER_LIFECYCLE:
            return False
        position = ORDER_LIFECYCLE.index(status)
        return any(target in ORDER_LIFECYCLE and ORDER_LIFECYCLE.index(target) <= position for target in targets)

    def wait_for_order(
        self,
        uuid,
        targets=("ISSUED",),
        failures=("REJECTED", "CANCELLED"),
        timeout=900,
        interval=5,
        max_interval=60,
        progress=None,
        clock=time.monotonic,
    ):
        """Poll an order until its status reaches one of ``targets`` and return the order.

        A status that lies past a target in the SUBMITTED, APPROVED, POSTED, ISSUED order counts
        as reached, so a wait for POSTED ends when the order is already ISSUED.
        The delay between polls starts at ``interval`` seconds and grows by half each time, up to
        ``max_interval``. No sleep runs past the deadline, and the last poll happens at the deadline.
        ``progress(order, elapsed)`` is called after every poll.

        Raises CertViewWaitError with the last status and caStatus when the order reaches one of
        ``failures`` or when ``timeout`` seconds pass. Empty ``targets`` and an empty uuid raise
        ValueError before any request, so modules validate both first. ``interval`` must be
        positive, because an interval of 0 polls without pause until the timeout.
        """
        targets = tuple(str(target).upper() for target in targets)
        failures = tuple(str(failure).upper() for failure in failures)
        if not targets:
            raise ValueError("targets must name at least one order status")
        path = self._order_path(uuid)
        start = clock()
        delay = interval
        polls = 0
        while True:
            order = self.get_order(uuid)
            polls += 1
            elapsed = clock() - start
            if progress is not None:
                progress(order, elapsed)
            status = str(order.get("status") or "").upper()
            ca_status = order.get("caStatus")
            if self._reached(status, targets):
                return order
            if status in failures:
                raise CertViewWaitError(
                    "Order %s reached status %s (caStatus %r) while waiting for %s." % (uuid, status, ca_status or "", " or ".join(targets)),
                    uuid=uuid,
                    status=status,
                    ca_status=ca_status,
                    waited=elapsed,
                    order=order,
                    method="GET",
                    path=path,
                )
            remaining = timeout - elapsed
            if remaining <= 0:
                raise CertViewWaitError(
                    "Order %s did not reach %s within %s s: last status %s, caStatus %r, after %d polls."
                    % (uuid, " or ".join(targets), timeout, status or "(none)", ca_status or "", polls),
                    uuid=uuid,
                    status=status or None,
                    ca_status=ca_status,
                    waited=elapsed,
                    order=order,
                    method="GET",
                    path=path,
                )
            self._sleep(min(delay, remaining))
            delay = min(delay * 1.5, max_interval)


def client_from_module(module, username=None, password=None, token=None, **client_options):
    """Build a CertViewClient from a module's connection options, logging retries through module.log.

    When any of ``username``, ``password`` or ``token`` is given, these replace the connection's
    credentials completely, for example to approve an order with an approver's account.
    ``client_options`` go to CertViewClient (max_retries, backoff_base and so on). Invalid
    settings end the module through ``module.fail_json``.
    """
    require_requests(module)
    override = username is not None or password is not None or token is not None
    connection = resolve_connection(module, require_credentials=not override)
    if override:
        if token is None and (username is None or password is None):
            module.fail_json(msg="Incomplete credentials: set both a username and a password, or a token.")
        for secret in (password, token):
            if secret:
                module.no_log_values.add(secret)
        connection.update(username=username, password=password, token=token)
    try:
        return CertViewClient(
            connection["gateway_url"],
            username=connection["username"],
            password=connection["password"],
            token=connection["token"],
            validate_certs=connection["validate_certs"],
            ca_path=connection["ca_path"],
            timeout=connection["timeout"],
            log=module.log,
            **client_options,
        )
    except CertViewError as error:
        module.fail_json(**error.to_result())
    return None
