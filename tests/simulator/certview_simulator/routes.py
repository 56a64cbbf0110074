"""The Certificate View API routes: /auth, the DigiCert enrollment endpoints and the certificate inventory.

Every route but /auth authenticates the bearer token first (401), then checks the user's license
(2012) and role (148100), and only then looks at the order or the body.
"""

import hmac

from flask import Blueprint, Response, current_app, g, jsonify, request

from . import fixtures
from .errors import API_ACCESS_DENIED, PERMISSION_DENIED, ApiError, invalid_value, missing_parameters, standard_error
from .validation import parse_json_object, validate_ca_lookup

ENROLLMENT = "/certview/rest/public/v1/certificates/enrollment/digicert"
INVENTORY_PATHS = ("/certview/v2/certificates", "/certview/v2.1/certificates")
AUTH_FAILED = "401"

api = Blueprint("certview_api", __name__)


def simulator_state():
    return current_app.extensions["certview_simulator"]


def _unauthorized(text):
    return ApiError(401, AUTH_FAILED, text, headers={"WWW-Authenticate": 'Bearer realm="certview"'})


def authorize(action):
    """Return the fixture user of the request's bearer token if the user may perform the action, or raise 401, 2012 or 148100."""
    scheme, _separator, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("Authentication required: send Authorization: Bearer <token from POST /auth>")
    username = simulator_state().token_user(token)
    if username is None:
        raise _unauthorized("The bearer token is invalid or expired. Request a new one from POST /auth")
    g.user = username
    user = fixtures.USERS[username]
    if not user.api_access:
        raise standard_error(403, API_ACCESS_DENIED)
    if action not in fixtures.ROLE_PERMISSIONS[user.role]:
        raise standard_error(403, PERMISSION_DENIED, "role %s may not %s" % (user.role, action.replace("_", " ")))
    return user


@api.post("/auth")
def authenticate():
    """Exchange form fields username, password and token=true for a bearer token (201, text/plain)."""
    form = request.form
    g.user = form.get("username") or None
    missing = [name for name in ("username", "password", "token") if not form.get(name)]
    if missing:
        raise missing_parameters(missing)
    if form["token"].lower() != "true":
        raise invalid_value("token", form["token"], "must be true")
    user = fixtures.USERS.get(form["username"])
    if user is None or not hmac.compare_digest(user.password.encode("utf-8"), form["password"].encode("utf-8")):
        raise _unauthorized("Invalid username or password")
    return Response(simulator_state().issue_token(user.username), status=201, mimetype="text/plain")


@api.post(ENROLLMENT + "/orders")
def create_order():
    user = authorize(fixtures.CREATE)
    state = simulator_state()
    view = state.create_order(request.get_data(cache=True), user.username)
    return jsonify(view), state.config.create_status


@api.put(ENROLLMENT + "/orders/<order_uuid>")
def update_order(order_uuid):
    user = authorize(fixtures.UPDATE)
    return jsonify(simulator_state().update_order(order_uuid, request.get_data(cache=True), user.username))


@api.put(ENROLLMENT + "/orders/<order_uuid>/status")
def change_order_status(order_uuid):
    user = authorize(fixtures.CHANGE_STATUS)
    simulator_state().change_status(order_uuid, request.get_data(cache=True), user.username)
    return Response(status=204)


@api.get(ENROLLMENT + "/orders/<order_uuid>")
def view_order(order_uuid):
    authorize(fixtures.VIEW)
    return jsonify(simulator_state().view_order(order_uuid))


def _list_call():
    authorize(fixtures.LIST)
    body = parse_json_object(request.get_data(cache=True))
    validate_ca_lookup(simulator_state().pki, body)


@api.post(ENROLLMENT + "/organizations")
def list_organizations():
    _list_call()
    return jsonify({"organizations": [dict(organization) for organization in fixtures.ORGANIZATIONS]})


@api.post(ENROLLMENT + "/products")
def list_products():
    _list_call()
    return jsonify({"products": [product.to_api() for product in fixtures.PRODUCTS.values()]})


@api.post(ENROLLMENT + "/evApprovers")
def list_ev_approvers():
    _list_call()
    return jsonify({"evApprovers": [dict(approver) for approver in fixtures.EV_APPROVERS]})


def list_certificates():
    """List inventory certificates: body {filter: {filters: [{field, operator, value}], operation}, pageNumber, pageSize}."""
    authorize(fixtures.LIST)
    data = request.get_data(cache=True)
    body = parse_json_object(data) if data.strip() else {}
    return jsonify(simulator_state().list_inventory(body))


for _path in INVENTORY_PATHS:
    api.add_url_rule(_path, endpoint="list_certificates" + _path.replace("/", "_").replace(".", "_"), view_func=list_certificates, methods=["POST"])
