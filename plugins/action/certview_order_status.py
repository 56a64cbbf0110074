# -*- coding: utf-8 -*-
# Copyright (c) qualys.certview contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Report progress while certview_order_status waits for an order.

A module cannot print anything before it ends. For a wait longer than the
module's progress_interval option this action runs the module in slices of
that length and, between two slices, shows the order's status at verbosity -v. The module itself does all polling, so the
poll rules stay in one place.

NOTE: every slice is a new module run, which gets a new token from /auth, so
a wait of an hour with the default progress_interval logs in about 60 times.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import time

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()


def _seconds(value, default):
    """Return an option as whole seconds, or None when it is not a number (the module then rejects it)."""
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        try:
            wait = boolean(args.get("wait", False), strict=False)
        except TypeError:
            wait = False
        timeout = _seconds(args.get("wait_timeout"), 900)
        interval = _seconds(args.get("poll_interval"), 5)
        max_interval = _seconds(args.get("max_poll_interval"), 60)
        progress_interval = _seconds(args.get("progress_interval"), 60)

        single_run = (
            not wait
            or self._task.check_mode
            or None in (timeout, interval, max_interval, progress_interval)
            or min(interval, max_interval, progress_interval) < 1
            or timeout <= progress_interval
        )
        if single_run:
            result.update(self._execute_module(module_args=args, task_vars=task_vars))
            return result

        host = (task_vars or {}).get("inventory_hostname")
        started = time.monotonic()
        changed = False
        first_diff = None
        while True:
            remaining = timeout - (time.monotonic() - started)
            args.update(wait_timeout=max(1, min(progress_interval, int(math.ceil(remaining)))), poll_interval=min(interval, max_interval))
            outcome = self._execute_module(module_args=args, task_vars=task_vars)
            changed = changed or bool(outcome.get("changed"))
            if first_diff is None:
                # Only the first slice can change the status, so its diff is the one to show.
                first_diff = outcome.get("diff")
            elapsed = time.monotonic() - started
            timed_out = bool(outcome.get("failed") and outcome.get("wait_timed_out"))
            if not timed_out or elapsed >= timeout - 1:
                break
            status = (outcome.get("status"), outcome.get("ca_status") or "")
            display.v("Order %s is %s (CA status %r), waited %d s of %d s" % ((args.get("uuid"),) + status + (elapsed, timeout)), host=host)
            # The status change, if any, happened in the first slice.
            args.pop("state", None)
            args.pop("comment", None)
            interval = min(max_interval, interval * 2)

        outcome["changed"] = changed
        outcome["waited"] = round(elapsed, 1)
        if first_diff is not None:
            outcome["diff"] = first_diff
        if not outcome.get("failed"):
            outcome["msg"] = "Order %s reached %s after %.1f s." % (args.get("uuid"), outcome.get("status"), outcome["waited"])
        elif timed_out:
            outcome["msg"] = "Order %s did not reach %s within %d s: last status %s, CA status %r." % (
                args.get("uuid"),
                " or ".join(args.get("wait_for") or ["ISSUED"]),
                timeout,
                outcome.get("status"),
                outcome.get("ca_status") or "",
            )
        result.update(outcome)
        return result
