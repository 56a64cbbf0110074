"""Admin endpoints under /_sim for tests: inspect and reset state, change settings, inject faults.

They need no authentication, are never logged and are never faulted. Errors are JSON {"error": text}.
"""

import logging

from flask import Blueprint, jsonify, request

from .errors import ApiError
from .routes import simulator_state

logger = logging.getLogger("certview_simulator")
admin = Blueprint("certview_admin", __name__, url_prefix="/_sim")


class AdminError(Exception):
    """An invalid admin request, rejected with 400 and a JSON error."""


@admin.errorhandler(AdminError)
def _admin_error(error):
    logger.warning("%s %s rejected: %s", request.method, request.path, error)
    return jsonify({"error": str(error)}), 400


@admin.errorhandler(ApiError)
def _admin_api_error(error):
    logger.warning("%s %s rejected: HTTP %d, code %s: %s", request.method, request.path, error.http_status, error.code, error.text)
    return jsonify({"error": error.text, "code": error.code}), error.http_status


def _json_body(default=None):
    data = request.get_data(cache=True)
    if not data.strip():
        if default is not None:
            return default
        raise AdminError("a JSON body is required")
    body = request.get_json(silent=True)
    if body is None:
        raise AdminError("the body is not valid JSON")
    return body


@admin.get("/health")
def health():
    return jsonify({"status": "ok"})


@admin.get("/requests")
def list_requests():
    """Return the request log, oldest first. With ?since=SEQ only entries after that sequence number are returned."""
    try:
        since = int(request.args.get("since", "0"))
    except ValueError:
        raise AdminError("since must be an integer sequence number") from None
    return jsonify(simulator_state().requests(since))


@admin.delete("/requests")
def clear_requests():
    simulator_state().clear_requests()
    return jsonify({"status": "cleared"})


@admin.post("/reset")
def reset():
    simulator_state().reset()
    return jsonify({"status": "reset"})


@admin.get("/config")
def get_config():
    return jsonify(simulator_state().config_dict())


@admin.post("/config")
def set_config():
    try:
        return jsonify(simulator_state().configure(_json_body()))
    except ValueError as error:
        raise AdminError(str(error)) from None


@admin.get("/faults")
def list_faults():
    return jsonify({"faults": simulator_state().list_faults()})


@admin.post("/faults")
def add_faults():
    """Append faults from {"faults": [fault, ...]} or one fault object, and return all pending faults."""
    try:
        return jsonify({"faults": simulator_state().add_faults(_json_body())})
    except ValueError as error:
        raise AdminError(str(error)) from None


@admin.delete("/faults")
def clear_faults():
    simulator_state().clear_faults()
    return jsonify({"faults": []})


@admin.get("/orders")
def list_orders():
    return jsonify(simulator_state().admin_orders())


@admin.get("/orders/<order_uuid>")
def get_order(order_uuid):
    return jsonify(simulator_state().admin_order(order_uuid))


@admin.post("/orders/<order_uuid>/advance")
def advance_order(order_uuid):
    return jsonify(simulator_state().advance_order(order_uuid))


@admin.post("/tokens/expire")
def expire_tokens():
    """Expire all tokens, or only those of {"username": NAME}."""
    body = _json_body(default={})
    username = body.get("username") if isinstance(body, dict) else None
    return jsonify({"expired": simulator_state().expire_tokens(username)})


@admin.get("/cas")
def list_cas():
    state = simulator_state()
    return jsonify([ca.to_admin() for ca in state.pki.intermediates])


@admin.get("/certificates")
def list_certificates():
    """Return the whole inventory with each certificate's PEM."""
    return jsonify(simulator_state().admin_inventory())
