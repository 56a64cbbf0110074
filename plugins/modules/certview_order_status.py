#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) qualys.certview contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: certview_order_status
short_description: Approve, reject or cancel a Qualys Certificate View order, or wait until it is issued
version_added: 0.1.0
description:
  - Sets the status of a DigiCert order in Qualys Certificate View to
    C(APPROVED), C(REJECTED) or C(CANCELLED), with a comment.
  - The module reads the order first. An order already in the requested
    status is reported unchanged, and so is an approval of an order that is
    already past approval (C(POSTED) or C(ISSUED)).
  - Once approved, an order can no longer be rejected or cancelled; the
    module fails with a message that gives the reason, without sending the request.
  - With O(wait=true) the module then polls the order until it reaches one of
    the statuses in O(wait_for), C(ISSUED) by default. The interval starts at
    O(poll_interval) and grows by half each time, up to O(max_poll_interval).
    It fails with the last status and CA status when the order is rejected or
    cancelled meanwhile, or when O(wait_timeout) runs out.
  - While it waits, the module reports progress (status, CA status and the
    time waited) every O(progress_interval) seconds at verbosity C(-v) and
    higher, so normal runs stay quiet.
  - Approving needs a user whose role is approver, manager or PKI admin. The
    connection options of this task can name other credentials than those
    that created the order.
extends_documentation_fragment:
  - qualys.certview.connection
  - qualys.certview.attributes
attributes:
  check_mode:
    support: full
    details: In check mode the order is read and the change is predicted, but no status is sent and the module does not wait.
  diff_mode:
    support: full
    details: The diff shows the status before and after.
  idempotent:
    support: full
options:
  uuid:
    description: UUID of the order.
    type: str
    required: true
  state:
    description:
      - Status to set. Leave it out to only read the order or wait for it.
    type: str
    choices: [approved, rejected, cancelled]
  comment:
    description: Comment that goes with the status change. Required with O(state).
    type: str
  wait:
    description: Wait until the order reaches a status in O(wait_for).
    type: bool
    default: false
  wait_for:
    description: Statuses that end the wait.
    type: list
    elements: str
    choices: [SUBMITTED, APPROVED, POSTED, ISSUED, REJECTED, CANCELLED]
    default: [ISSUED]
  wait_timeout:
    description: Seconds to wait before the module fails.
    type: int
    default: 900
  poll_interval:
    description: Seconds between the first two reads of the order while waiting.
    type: int
    default: 5
  max_poll_interval:
    description: Upper bound, in seconds, of the interval between two reads while waiting.
    type: int
    default: 60
  progress_interval:
    description:
      - Seconds between two progress lines while the module waits. They are shown at verbosity C(-v) and higher.
      - Each progress line ends one slice of the wait and starts the next, with the poll interval doubled up to O(max_poll_interval).
    type: int
    default: 60
author:
  - qualys.certview maintainers (@qualys)
"""

EXAMPLES = r"""
- name: Approve the order with the approver's own credentials
  qualys.certview.certview_order_status:
    platform: US1
    username: "{{ certview_approver_username }}"
    password: "{{ certview_approver_password }}"
    uuid: "{{ order.uuid }}"
    state: approved
    comment: Approved by the renewal pipeline
  delegate_to: localhost

- name: Wait up to an hour until DigiCert has issued the certificate
  qualys.certview.certview_order_status:
    uuid: "{{ order.uuid }}"
    wait: true
    wait_timeout: 3600
    poll_interval: 10
  delegate_to: localhost
  register: issued

- name: Cancel an order that is still SUBMITTED
  qualys.certview.certview_order_status:
    uuid: "{{ order.uuid }}"
    state: cancelled
    comment: Host was decommissioned
  delegate_to: localhost
"""

RETURN = r"""
uuid:
  description: UUID of the order.
  returned: always
  type: str
status:
  description: Status of the order when the module ended (predicted in check mode).
  returned: always
  type: str
  sample: ISSUED
ca_status:
  description: Status text from the CA, empty until the order is posted.
  returned: always
  type: str
  sample: issued
order:
  description: The order as last read, with snake_case keys and without a private key.
  returned: always
  type: dict
waited:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 42.5
msg:
  description: What the module did.
  returned: always
  type: str
wait_timed_out:
  description: True when the wait ended because O(wait_timeout) ran out, false when the order was rejected or cancelled.
  returned: when the wait failed
  type: bool
"""

import time

from ansible_collections.qualys.certview.plugins.module_utils.api import CertViewError, CertViewWaitError, client_from_module
from ansible_collections.qualys.certview.plugins.module_utils.base import create_module, fail_with_error
from ansible_collections.qualys.certview.plugins.module_utils.orders import OrderInputError, order_result, validate_uuid

APPROVED_OR_LATER = ("APPROVED", "POSTED", "ISSUED")
FINAL_FAILURES = ("REJECTED", "CANCELLED")


def plan_status_change(current, target):
    """Decide what setting target on an order in status current means.

    Returns True when the status must be sent, False when the order is
    already there, and raises ValueError with the reason when the API would
    reject the change.
    """
    if current == target:
        return False
    if target == "APPROVED":
        if current in APPROVED_OR_LATER:
            return False
        if current in FINAL_FAILURES:
            raise ValueError("it is %s, and a %s order cannot be approved" % (current, current.lower()))
        return True
    if current in APPROVED_OR_LATER:
        raise ValueError("it is %s: once approved, an order can no longer be rejected or cancelled" % current)
    if current in FINAL_FAILURES:
        raise ValueError("it is already %s" % current)
    return True


def main():
    argument_spec = dict(
        uuid=dict(type="str", required=True),
        state=dict(type="str", choices=["approved", "rejected", "cancelled"]),
        comment=dict(type="str"),
        wait=dict(type="bool", default=False),
        wait_for=dict(type="list", elements="str", default=["ISSUED"], choices=["SUBMITTED", "APPROVED", "POSTED", "ISSUED", "REJECTED", "CANCELLED"]),
        wait_timeout=dict(type="int", default=900),
        poll_interval=dict(type="int", default=5),
        max_poll_interval=dict(type="int", default=60),
        progress_interval=dict(type="int", default=60),
    )
    module = create_module(argument_spec, required_by=dict(state=["comment"]))
    params = module.params
    uuid = params["uuid"]
    for name in ("wait_timeout", "poll_interval", "max_poll_interval", "progress_interval"):
        if params[name] < 1:
            module.fail_json(msg="Invalid value %d for option %s: use a number of seconds of at least 1." % (params[name], name))
    if params["state"] and not params["comment"].strip():
        module.fail_json(msg="Option comment is empty: the API needs a comment for every status change.")
    if params["wait"] and not params["wait_for"]:
        module.fail_json(msg="Option wait_for is empty: name at least one status to wait for, such as ISSUED.")
    try:
        uuid = validate_uuid(uuid)
    except OrderInputError as error:
        module.fail_json(msg=str(error))

    client = client_from_module(module)
    try:
        order = client.get_order(uuid)
    except CertViewError as error:
        fail_with_error(module, error, "Failed to read order %s" % uuid)

    changed = False
    status = order.get("status")
    messages = []
    if params["state"]:
        target = params["state"].upper()
        try:
            changed = plan_status_change(status, target)
        except ValueError as reason:
            module.fail_json(msg="Cannot set order %s to %s: %s." % (uuid, target, reason), uuid=uuid, status=status,
                             ca_status=order.get("caStatus"), order=order_result(order), changed=False)
        if changed and not module.check_mode:
            try:
                client.set_order_status(uuid, target, params["comment"])
            except CertViewError as error:
                fail_with_error(module, error, "Failed to set order %s to %s" % (uuid, target), uuid=uuid, status=status)
            order = dict(order, status=target)
        if not changed:
            messages.append("Order %s is already %s." % (uuid, status))
        elif module.check_mode:
            messages.append("Would set order %s to %s." % (uuid, target))
        else:
            messages.append("Set order %s to %s." % (uuid, target))

    result = dict(changed=changed, uuid=uuid, waited=0.0)
    if module._diff:
        result["diff"] = dict(before=dict(status=status), after=dict(status=params["state"].upper() if changed else status))

    if params["wait"] and module.check_mode:
        messages.append("Check mode: not waiting.")
    elif params["wait"]:
        def progress(current, elapsed):
            module.log("Order %s is %s (caStatus %r) after %.0f s" % (uuid, current.get("status"), current.get("caStatus"), elapsed))

        started = time.monotonic()
        try:
            order = client.wait_for_order(
                uuid,
                targets=tuple(params["wait_for"]),
                failures=tuple(name for name in FINAL_FAILURES if name not in params["wait_for"]),
                timeout=params["wait_timeout"],
                interval=params["poll_interval"],
                max_interval=params["max_poll_interval"],
                progress=progress,
            )
        except CertViewWaitError as error:
            failure = error.to_result()
            failure.update(changed=changed, order=order_result(error.order), wait_timed_out=error.status not in FINAL_FAILURES)
            if "diff" in result:
                failure["diff"] = result["diff"]
            module.fail_json(**failure)
        except CertViewError as error:
            fail_with_error(module, error, "Failed to read order %s while waiting for it" % uuid, changed=changed, uuid=uuid)
        waited = time.monotonic() - started
        result["waited"] = round(waited, 1)
        messages.append("Order %s reached %s after %.0f s." % (uuid, order.get("status"), waited))

    if changed and module.check_mode:
        order = dict(order, status=params["state"].upper())
    result.update(
        status=order.get("status"),
        ca_status=order.get("caStatus"),
        order=order_result(order),
        msg=" ".join(messages) or "Order %s is %s." % (uuid, order.get("status")),
    )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
