# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file is private to the qualys.certview collection. Import the public names from
# ansible_collections.qualys.certview.plugins.module_utils.api instead, because this file may
# change without notice.

"""Exception classes of the Certificate View client and the parser for error responses."""

from __future__ import annotations

import html
import json
import re
from http import HTTPStatus
from xml.etree import ElementTree

# Maximum length of the text excerpt taken from a response that contains no error code.
EXCERPT_MAX_CHARS = 200

# Instructions for finding an order when the client cannot tell whether the create request
# reached the server. The enrollment API has no call that lists orders.
FIND_ORDER_HINT = (
    "Do not rerun the task blindly, because that can create a second order. Look for the order in the "
    "Certificate View UI under Certificates > Enrollment orders, or search for its common name, then "
    "continue with that order's uuid. The enrollment API has no call that lists orders."
)

_CODE_NAMES = ("code", "errorcode", "error_code")
_TEXT_NAMES = ("text", "message", "errormessage", "error_message", "error_description", "detail", "title")


class CertViewError(Exception):
    """Base error of the Certificate View client.

    Every attribute except ``message`` may be None. ``to_result()`` returns the keys that a module
    passes to ``fail_json``.
    """

    def __init__(self, message, http_status=None, error_code=None, error_text=None, method=None, path=None):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.error_code = error_code
        self.error_text = error_text
        self.method = method
        self.path = path

    def __str__(self):
        return self.message

    def to_result(self):
        return dict(
            msg=self.message,
            http_status=self.http_status,
            error_code=self.error_code,
            error_text=self.error_text,
            method=self.method,
            path=self.path,
        )


class CertViewAPIError(CertViewError):
    """Error response from Certificate View, or a success response that could not be decoded."""


class CertViewTransportError(CertViewError):
    """Connection, TLS or timeout failure that persisted after the allowed retries."""


class OrderMayExistError(CertViewError):
    """Failure of a create-order request that may have reached Certificate View, whose response was lost.

    The client never sends such a request again, so the result carries ``order_may_exist: true``
    for playbooks that want to stop and let a person look for the order.
    """

    def to_result(self):
        result = super().to_result()
        result["order_may_exist"] = True
        return result


class CertViewWaitError(CertViewError):
    """An order reached a failure status, or did not reach a target status in time."""

    def __init__(self, message, uuid=None, status=None, ca_status=None, waited=None, order=None, **kwargs):
        super().__init__(message, **kwargs)
        self.uuid = uuid
        self.status = status
        self.ca_status = ca_status
        self.waited = waited
        self.order = order

    def to_result(self):
        result = super().to_result()
        result.update(uuid=self.uuid, status=self.status, ca_status=self.ca_status, waited=self.waited)
        return result


def reason_phrase(status, reason=None):
    """Return the standard reason phrase of an HTTP status, or the server's phrase for a nonstandard status.

    Servers spell phrases differently (werkzeug sends "BAD REQUEST", HTTP/2 sends none), so the
    standard phrase keeps messages uniform.
    """
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return reason or ""


def decode_body(content):
    """Decode a response body to text, replacing bytes that are not UTF-8."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return content.decode("utf-8", errors="replace")


def _apply_mask(text, mask):
    if mask is None:
        return text
    return mask(text)


def text_excerpt(text, max_chars=EXCERPT_MAX_CHARS, mask=None):
    """Return a one-line excerpt of an HTML or text body: tags, scripts and styles removed, entities decoded.

    ``mask`` is applied to the decoded text before it is shortened, so that a secret that the
    cut would split is still masked.
    """
    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text)
    text = re.sub(r"(?s)<!--.*?-->", " ", text)
    text = re.sub(r"(?s)<[^>]*>", " ", text)
    text = _apply_mask(html.unescape(text), mask)
    text = "".join(char if char.isprintable() else " " for char in text)
    text = " ".join(text.split())
    if len(text) > max_chars:
        text = text[: max_chars - 3].rstrip() + "..."
    return text


def _local_name(tag):
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _element_text(element):
    return " ".join("".join(element.itertext()).split())


def parse_xml_error(text):
    """Return (code, text) from an XML error body, or None when the body is not XML or is an HTML page.

    The classic Qualys form is SIMPLE_RETURN/RESPONSE/{CODE,TEXT}. Any element named CODE or TEXT
    (or code, errorCode, message and similar), in any namespace and at any depth, counts too.
    """
    # Entity declarations are never part of an error response, and rejecting them keeps entity
    # expansion out of the parser.
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        return None
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return None
    # XHTML error pages parse as XML, and their <code> elements are not error codes.
    if _local_name(root.tag) == "html":
        return None
    code = None
    message = None
    for element in root.iter():
        name = _local_name(element.tag)
        if code is None and name in _CODE_NAMES:
            code = _element_text(element) or None
        elif message is None and name in _TEXT_NAMES:
            message = _element_text(element) or None
    return code, message


def _json_scalar(value):
    if value is None or isinstance(value, (dict, list)):
        return None
    value = str(value).strip()
    return value or None


def json_error_fields(data, depth=0):
    """Return (code, text) from a decoded JSON error body.

    Accepted forms include {"errorCode", "message"}, {"code", "message"}, {"errorMessage"},
    {"error": {...}} with any of these inside, {"error": "text"}, and {"errors": [{...}]}.
    """
    if depth > 3:
        return None, None
    if isinstance(data, list):
        for item in data:
            code, message = json_error_fields(item, depth + 1)
            if code or message:
                return code, message
        return None, None
    if not isinstance(data, dict):
        return None, _json_scalar(data)

    keys = {key.lower(): key for key in data if isinstance(key, str)}
    code = None
    for name in _CODE_NAMES:
        if name in keys:
            code = _json_scalar(data[keys[name]])
            if code:
                break
    message = None
    for name in _TEXT_NAMES:
        if name in keys:
            message = _json_scalar(data[keys[name]])
            if message:
                break

    for container in ("error", "errors"):
        if container not in keys or (code and message):
            continue
        nested = data[keys[container]]
        if isinstance(nested, (dict, list)):
            nested_code, nested_message = json_error_fields(nested, depth + 1)
            code = code or nested_code
            message = message or nested_message
        elif message is None:
            # Spring-style responses contain the reason phrase in "error" and the detail in "message".
            message = _json_scalar(nested)
    return code, message


def parse_error_body(content, content_type=None, mask=None):
    """Return (code, text, excerpt) parsed from an error response body.

    ``code`` and ``text`` come from an XML or JSON error document. ``excerpt`` is set only when
    neither was found. It is a short text excerpt of the body, or None for an empty body.
    ``mask(text)`` hides secrets. It is applied to the whole body before parsing and again to the
    decoded text of an excerpt, before the excerpt is shortened.
    """
    text = _apply_mask(decode_body(content), mask).strip()
    if not text:
        return None, None, None
    content_type = (content_type or "").lower()

    looks_json = text[0] in "{[" or "json" in content_type
    looks_xml = text[0] == "<" and "html" not in content_type
    if looks_json:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if data is not None:
            code, message = json_error_fields(data)
            if code or message:
                return code, message, None
    if looks_xml:
        parsed = parse_xml_error(text)
        if parsed and (parsed[0] or parsed[1]):
            return parsed[0], parsed[1], None
    return None, None, text_excerpt(text, mask=mask) or None


def append_hint(message, hint):
    """Append a hint sentence to a message, ending the message with a period first."""
    if not hint:
        return message
    if not message.endswith("."):
        message += "."
    return message + " " + hint


def describe_failure(method, path, status, reason, code=None, text=None, excerpt=None, empty=False):
    """Build the message for a failed call, such as "POST /x failed: HTTP 400 Bad Request, error 1905: ..."."""
    message = "%s %s failed: HTTP %s %s" % (method, path, status, reason_phrase(status, reason))
    message = message.rstrip()
    if code and text:
        message += ", error %s: %s" % (code, text)
    elif code:
        message += ", error %s" % code
    elif text:
        message += ": %s" % text
    elif excerpt:
        message += ": %s" % excerpt
    elif empty:
        message += " with an empty body"
    return message


def error_from_response(response, method, path, hint=None, error_class=CertViewAPIError, mask=None):
    """Turn a non-success response into a CertViewAPIError (or ``error_class``) with the parsed error fields.

    ``mask`` is the secret-masking function of parse_error_body().
    """
    code, text, excerpt = parse_error_body(response.content, response.headers.get("Content-Type"), mask=mask)
    message = describe_failure(
        method,
        path,
        response.status_code,
        response.reason,
        code=code,
        text=text,
        excerpt=excerpt,
        empty=not response.content,
    )
    message = append_hint(message, hint)
    return error_class(
        message,
        http_status=response.status_code,
        error_code=code,
        error_text=text or excerpt,
        method=method,
        path=path,
    )


def decode_json_response(response, method, path, error_class=CertViewAPIError, hint=None, mask=None):
    """Decode the JSON body of a success response. An empty body gives None.

    A body that is not valid JSON raises ``error_class`` with an excerpt of what came back, in
    which ``mask(text)`` has hidden secrets before the excerpt was shortened.
    """
    if not response.content or not response.content.strip():
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        excerpt = text_excerpt(_apply_mask(decode_body(response.content), mask), mask=mask)
        message = "%s %s failed: HTTP %s %s, but the response was not valid JSON: %s" % (
            method,
            path,
            response.status_code,
            reason_phrase(response.status_code, response.reason),
            excerpt or "(no printable text)",
        )
        message = append_hint(message, hint)
        raise error_class(message, http_status=response.status_code, error_text=excerpt or None, method=method, path=path) from None
