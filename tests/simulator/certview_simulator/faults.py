"""Fault injection: rules that make matching API requests fail the way networks, proxies and busy services fail.

A fault matches a request by HTTP method and a regular expression searched in the path, and it is
used up after `times` matching requests (default 1, 0 means every matching request). Kinds:

- status: respond with `status` (default 503), an optional Retry-After header and an error body
  (`code` and `text`, or a raw `body`) without handling the request;
- delay: sleep `seconds`, then handle the request normally;
- drop_before: close the TCP connection without handling the request or sending any response;
- drop_after: handle the request (an order IS created), then close the connection without a response;
- malformed: respond with `status` (default 200) with a truncated JSON body;
- html: respond with `status` (default 502) with an HTML error page, as a proxy does;
- empty: respond with `status` (default 200) with an empty body.

status, malformed, html and empty respond in place of the service unless `after` is true, in which
case the request is handled first and only its response is replaced.
"""

import dataclasses
import http
import re
import socket
from typing import Optional

from flask import Response

from .errors import ApiError, render_error

KINDS = ("status", "delay", "drop_before", "drop_after", "malformed", "html", "empty")
RESPONSE_KINDS = ("status", "malformed", "html", "empty")
DEFAULT_STATUS = {"status": 503, "malformed": 200, "html": 502, "empty": 200}
DEFAULT_PATH = r"^/(?!_sim/)"
MAX_DELAY_SECONDS = 600.0
FIELDS = ("kind", "method", "path", "times", "status", "retry_after", "body", "content_type", "code", "text", "seconds", "after")

MALFORMED_BODY = '{"uuid": "3f1c9a52-1d7e-4b8a-9c0e-52a1f0c3d8b7", "status": "SUBM'
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{status} {phrase}</title></head>\n"
    "<body><h1>{status} {phrase}</h1><p>The gateway got no response from the service.</p></body></html>\n"
)


@dataclasses.dataclass
class Fault:
    id: int
    kind: str
    method: Optional[str]
    path: str
    times: int
    status: Optional[int] = None
    retry_after: Optional[str] = None
    body: Optional[str] = None
    content_type: Optional[str] = None
    code: Optional[str] = None
    text: Optional[str] = None
    seconds: float = 1.0
    after: bool = False
    hits: int = 0

    def __post_init__(self):
        self.pattern = re.compile(self.path)

    def matches(self, method, path):
        return (self.method is None or self.method == method) and self.pattern.search(path) is not None

    @property
    def exhausted(self):
        return self.times > 0 and self.hits >= self.times

    def to_dict(self):
        fields = {name: getattr(self, name) for name in FIELDS}
        fields.update(id=self.id, hits=self.hits)
        return fields


def _fault_entries(payload):
    if isinstance(payload, dict) and "faults" in payload:
        payload = payload["faults"]
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not payload:
        raise ValueError('expected {"faults": [fault, ...]} with at least one fault')
    return payload


def parse_faults(payload, first_id):
    """Build Fault objects from a POST /_sim/faults body, or raise ValueError naming the invalid entry and field."""
    faults = []
    for index, entry in enumerate(_fault_entries(payload)):
        where = "faults[%d]" % index
        if not isinstance(entry, dict):
            raise ValueError("%s must be an object" % where)
        unknown = sorted(set(entry) - set(FIELDS))
        if unknown:
            raise ValueError("%s has unknown fields %s. Known fields: %s" % (where, ", ".join(unknown), ", ".join(FIELDS)))
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ValueError("%s.kind must be one of %s, got %r" % (where, ", ".join(KINDS), kind))
        method = entry.get("method")
        if method in (None, "*"):
            method = None
        elif isinstance(method, str):
            method = method.upper()
        else:
            raise ValueError("%s.method must be a string" % where)
        path = entry.get("path", DEFAULT_PATH)
        try:
            re.compile(path)
        except (TypeError, re.error) as error:
            raise ValueError("%s.path is not a valid regular expression: %s" % (where, error)) from None
        times = entry.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 0:
            raise ValueError("%s.times must be an integer >= 0 (0 = every matching request)" % where)
        status = entry.get("status", DEFAULT_STATUS.get(kind))
        if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
            raise ValueError("%s.status must be an HTTP status from 100 to 599" % where)
        seconds = entry.get("seconds", 1.0)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= MAX_DELAY_SECONDS:
            raise ValueError("%s.seconds must be a number from 0 to %g" % (where, MAX_DELAY_SECONDS))
        after = entry.get("after", False)
        if not isinstance(after, bool):
            raise ValueError("%s.after must be true or false" % where)
        texts = {}
        for name in ("retry_after", "body", "content_type", "code", "text"):
            value = entry.get(name)
            if value is None:
                texts[name] = None
                continue
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ValueError("%s.%s must be a string or a number" % (where, name))
            texts[name] = str(value)
        faults.append(Fault(first_id + index, kind, method, path, times, status, seconds=float(seconds), after=after, **texts))
    return faults


def _phrase(status):
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def fault_response(fault, error_format):
    """Build the response that a status, malformed, html or empty fault sends instead of the service's response."""
    status = fault.status
    if fault.kind == "status" and fault.body is None:
        error = ApiError(status, fault.code or str(status), fault.text or _phrase(status))
        response = render_error(error, error_format)
    elif fault.kind == "status":
        response = Response(fault.body, status=status, content_type=fault.content_type or "text/plain; charset=utf-8")
    elif fault.kind == "malformed":
        body = fault.body if fault.body is not None else MALFORMED_BODY
        response = Response(body, status=status, content_type=fault.content_type or "application/json")
    elif fault.kind == "html":
        body = fault.body if fault.body is not None else HTML_PAGE.format(status=status, phrase=_phrase(status))
        response = Response(body, status=status, content_type=fault.content_type or "text/html; charset=utf-8")
    else:
        response = Response(b"", status=status, content_type=fault.content_type or "application/json")
    if fault.retry_after is not None:
        response.headers["Retry-After"] = fault.retry_after
    return response


def drop_connection(environ):
    """Shut down the request's TCP connection so the client gets no HTTP response at all.

    werkzeug's development server puts the connection's socket at environ["werkzeug.socket"]. After
    the shutdown the client reads end-of-file where it expects a status line, and werkzeug's write
    of the discarded response fails with a broken pipe, which it treats as a dropped connection.
    """
    connection = environ.get("werkzeug.socket")
    if connection is None:
        raise RuntimeError("the WSGI server does not expose the connection socket, so drop faults cannot work. Serve the app with werkzeug")
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
