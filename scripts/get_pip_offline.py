"""Install pip from the wheel that lies beside this file, without a network.

ansible-test runs this file in place of the get-pip script it would download,
passing pip install options. The options that get-pip understands but pip does
not (--no-setuptools, --no-wheel) are dropped.
"""

import glob
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
wheels = sorted(glob.glob(os.path.join(here, "pip-*.whl")))
if not wheels:
    sys.exit("No pip wheel found in %s" % here)
sys.path.insert(0, wheels[-1])

from pip._internal.cli.main import main  # noqa: E402  pylint: disable=wrong-import-position

options = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--upgrade", "--force-reinstall", "--no-index", "--find-links", here] + options))
