# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Attribute blocks for qualys.certview modules.

    DOCUMENTATION gives each attribute its description. A module sets support (and details where
    support is partial) in its own attributes section, which wins when the blocks merge.
    """

    # Use with extends_documentation_fragment: qualys.certview.attributes
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description:
      - Can run in check mode and return the status that a real run would report, without changing
        anything in Certificate View.
  diff_mode:
    description:
      - Returns the difference between the order before and after the task, or the difference that
        a real run would make when in check mode.
  idempotent:
    description:
      - Running the same task again with the same options changes nothing and reports no change.
  platform:
    description:
      - The module runs where the task is delegated, usually the controller, and talks to the Qualys
        API gateway over HTTP(S). It does not touch the managed host.
    support: N/A
    platforms: all
"""

    # Use with extends_documentation_fragment: qualys.certview.attributes.actiongroup
    ACTIONGROUP = r"""
attributes:
  action_group:
    description:
      - Belongs to the action group C(qualys.certview.certview), so C(module_defaults) can set the
        connection options once for all modules of the collection.
    support: full
    membership:
      - qualys.certview.certview
"""

    # Use together with qualys.certview.attributes, which provides the descriptions:
    # extends_documentation_fragment: [qualys.certview.attributes, qualys.certview.attributes.info_module]
    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    details:
      - The module only reads data, so it runs normally in check mode.
  diff_mode:
    support: N/A
    details:
      - The module changes nothing, so there is no difference to report.
  idempotent:
    support: full
"""
