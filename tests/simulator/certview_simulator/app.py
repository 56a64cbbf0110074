"""The Flask application: routes, fault injection around every API request, and the request log."""

import json
import logging
import time

from flask import Flask, Response, g, request

from .admin import admin
from .errors import ApiError, render_error
from .faults import RESPONSE_KINDS, drop_connection, fault_response
from .routes import api, simulator_state

ADMIN_PREFIX = "/_sim"
MAX_LOGGED_TEXT = 1000

logger = logging.getLogger("certview_simulator")


def _is_admin_path():
    return request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/")


def _logged_body():
    """Return (json, raw_text) for the log. For /auth only the user name is kept, so no password is stored."""
    if request.path == "/auth":
        return {"username": request.form.get("username")}, None
    data = request.get_data(cache=True)
    if not data:
        return None, None
    try:
        return json.loads(data.decode("utf-8")), None
    except (UnicodeDecodeError, ValueError):
        return None, data[:MAX_LOGGED_TEXT].decode("utf-8", "replace")


def _log_request(status, handled_status=None):
    body, raw = _logged_body()
    fault = g.get("fault")
    entry = {
        "method": request.method,
        "path": request.path,
        # A client could put credentials into the /auth query string, so it is not kept either.
        "query": None if request.path == "/auth" else request.query_string.decode("latin-1") or None,
        "status": status,
        "user": g.get("user"),
        "json": body,
        "fault": fault.kind if fault is not None else None,
        "handled_status": handled_status,
    }
    if raw is not None:
        entry["raw"] = raw
    g.state.log_request(entry)


def _before_request():
    if _is_admin_path():
        return None
    g.state = simulator_state()
    fault = g.state.take_fault(request.method, request.path)
    g.fault = fault
    if fault is None:
        return None
    logger.info("fault %s #%d applies to %s %s", fault.kind, fault.id, request.method, request.path)
    if fault.kind == "delay":
        time.sleep(fault.seconds)
        return None
    if fault.kind == "drop_before":
        _log_request(None)
        g.dropped = True
        drop_connection(request.environ)
        # The connection is closed, so werkzeug's attempt to send this fails and nothing reaches the client.
        return Response(status=500)
    if fault.kind in RESPONSE_KINDS and not fault.after:
        return fault_response(fault, g.state.config.error_format)
    return None


def _after_request(response):
    if _is_admin_path() or g.get("dropped"):
        return response
    fault = g.get("fault")
    if fault is not None and fault.kind == "drop_after":
        _log_request(None, handled_status=response.status_code)
        drop_connection(request.environ)
        return response
    if fault is not None and fault.after and fault.kind in RESPONSE_KINDS:
        handled = response.status_code
        response = fault_response(fault, g.state.config.error_format)
        _log_request(response.status_code, handled_status=handled)
        return response
    _log_request(response.status_code)
    return response


def _api_error(error):
    logger.info("%s %s rejected: HTTP %d, code %s: %s (user %s)", request.method, request.path, error.http_status, error.code, error.text, g.get("user"))
    return render_error(error, simulator_state().config.error_format)


def create_app(state):
    """Build the Flask app that serves the API and the /_sim admin endpoints from the given SimulatorState."""
    app = Flask("certview_simulator")
    app.extensions["certview_simulator"] = state
    # Keep the field order of the samples in the Certificate View 2.7 release notes.
    app.json.sort_keys = False
    app.register_blueprint(api)
    app.register_blueprint(admin)
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.register_error_handler(ApiError, _api_error)
    return app
