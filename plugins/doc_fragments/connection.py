# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options of every qualys.certview module."""

    DOCUMENTATION = r"""
options:
  platform:
    description:
      - The Qualys platform that hosts the subscription, which selects the API gateway URL.
      - C(US1) is U(https://gateway.qg1.apps.qualys.com), C(EU1) is U(https://gateway.qg1.apps.qualys.eu),
        and the others follow the Qualys platform identification page.
      - Mutually exclusive with O(gateway_url).
      - If neither O(platform) nor O(gateway_url) is set in the task, the value of the environment variable
        E(QUALYS_GATEWAY_URL) is used, then the value of E(QUALYS_PLATFORM). The environment variable
        accepts platform names in any letter case.
      - One of O(platform), O(gateway_url), E(QUALYS_GATEWAY_URL) and E(QUALYS_PLATFORM) is required.
    type: str
    choices: [AE1, AU1, CA1, EU1, EU2, EU3, IN1, KSA1, UK1, US1, US2, US3, US4]
  gateway_url:
    description:
      - The base URL of the Qualys API gateway, for example V(https://gateway.qg2.apps.qualys.com).
      - Use it for private cloud platforms, or for a test server. Trailing slashes are removed.
      - It must be an C(http://) or C(https://) URL without user information, query string or fragment.
      - Mutually exclusive with O(platform).
      - If neither O(gateway_url) nor O(platform) is set in the task, the value of the environment variable
        E(QUALYS_GATEWAY_URL) is used. It wins over E(QUALYS_PLATFORM).
    type: str
  username:
    description:
      - The Qualys user name. The modules exchange O(username) and O(password) for a token through
        C(POST /auth), and request a new token once when the API rejects an expired one.
      - Required together with O(password).
      - If the task sets none of O(username), O(password) and O(token), the value of the environment
        variable E(QUALYS_USERNAME) is used. When the task sets any of the three, no credential is
        taken from the environment.
    type: str
  password:
    description:
      - The password of O(username).
      - When O(username) and O(password) are set, O(token) is ignored and never sent. This lets a task use
        another account, such as an approver's, while C(module_defaults) sets O(token) for every task.
      - If the task sets none of O(username), O(password) and O(token), the value of the environment
        variable E(QUALYS_PASSWORD) is used.
    type: str
  token:
    description:
      - A token (JWT) from C(POST /auth), sent as it is in the C(Authorization) header.
      - Tokens are valid for 4 hours. With a token alone, the modules cannot renew it, so a task fails
        when the token expires.
      - When O(username) and O(password) are set, O(token) is ignored.
      - If the task sets none of O(username), O(password) and O(token), the value of the environment
        variable E(QUALYS_TOKEN) is used. When the environment provides E(QUALYS_TOKEN) together with
        E(QUALYS_USERNAME) and E(QUALYS_PASSWORD), the token is sent first, and the password is used
        to get a new token if the token is rejected.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the gateway.
      - Set it to V(false) only for a test server that you control, because anyone on the network
        path could then read the password and the tokens.
      - If not set in the task, the value of the environment variable E(QUALYS_VALIDATE_CERTS) is used.
        It must be a boolean such as V(true) or V(false). Any other value, including an empty one, fails the task.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file with the CA certificates to trust for the gateway's certificate, or a directory of
        such files prepared with C(openssl rehash), in place of the CA bundle that requests uses.
      - Ignored when O(validate_certs=false).
      - If not set in the task, the value of the environment variable E(QUALYS_CA_PATH) is used.
    type: path
  timeout:
    description:
      - The timeout in seconds for connecting to the gateway and for each wait for data from it.
      - It must be from V(1) to V(3600).
      - If not set in the task, the value of the environment variable E(QUALYS_TIMEOUT) is used. It must
        be a whole number in the same range.
    type: int
    default: 30
requirements:
  - requests
notes:
  - The modules talk to the Qualys API gateway, not to the managed host. Run them on the controller,
    for example with C(delegate_to) set to C(localhost), and set the connection options once for the
    C(qualys.certview.certview) action group through C(module_defaults).
  - Calls that are safe to repeat are retried up to 5 times on HTTP 429, 502, 503 and 504 responses
    and on connection failures, waiting 1, 2, 4, 8 and 16 seconds. A C(Retry-After) header in the
    response sets the wait instead, up to 30 seconds. Each retry is written to the module log.
  - The request that creates an order is repeated only when it certainly was not processed, that is
    after a failure to connect, after HTTP 429, and after HTTP 401 with a new token. When its response
    is lost or is HTTP 500, 502, 503 or 504, the task fails with C(order_may_exist=true) in the result,
    and the message explains how to find the order. A proxy can send 502, 503 or 504 after it
    forwarded the request, so a resend could create a second order.
"""
