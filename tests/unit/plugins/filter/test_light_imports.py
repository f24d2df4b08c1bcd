# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every filter plugin loads without the HTTP client or MSAL: Ansible loads a filter file in each worker process that
templates it (a fleet run: several tasks per tenant), and requests alone cost about 0.1 s of CPU there each time."""

import os
import subprocess
import sys

import pytest

FILTER_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "filter"))
FILTERS = sorted(name[:-3] for name in os.listdir(FILTER_DIR) if name.endswith(".py") and not name.startswith("_"))
HEAVY = ("requests", "urllib3", "msal")


@pytest.mark.parametrize("name", FILTERS)
def test_a_filter_plugin_does_not_import_the_http_client(name):
    code = ("import sys\nimport ansible_collections.entra.sync.plugins.filter.%s\n"
            "print(' '.join(module for module in %r if module in sys.modules))" % (name, HEAVY))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "", "%s imports %s" % (name, run.stdout.strip())
