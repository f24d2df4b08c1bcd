# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write an offline stand-in for ansible-test's pip bootstrap script.

ansible-test (``--venv`` runs and the ``import`` sanity test) creates virtual environments without pip and
then downloads ``get-pip-<version>.py`` from its CI file host, unless the script is already cached in
``~/.ansible/test/cache/get_pip_<version with _>.py``.  Where that host is unreachable but the package
registry is not, a stand-in in the cache that bootstraps pip from the standard library (ensurepip) and then
runs ``pip install <the requested packages>`` does the same job.  An existing cache file (a real get-pip
script, or a stand-in written earlier) is never touched.

Usage: python ansible_test_pip_standin.py [--cache-dir DIR] [--force] [VERSION ...]
Without VERSION, the pip version(s) are read from the installed ansible-test.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys

STANDIN = '''\
"""Offline stand-in for the ansible-test get-pip bootstrap script (written by entra.sync tests/tools).

Run by ansible-test as __main__ with pip's options and the packages to install, for example
``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``.
"""

import ensurepip
import os
import subprocess
import sys

STANDIN_MARKER = "entra.sync ansible-test pip stand-in"


def main():
    """Bootstrap pip from the standard library, then install what ansible-test asked for."""
    # Copy the environment first: ensurepip.bootstrap() sets PIP_CONFIG_FILE=/dev/null in os.environ, and a
    # pip started with that ignores the machine's pip configuration (its CA bundle, its indexes).
    env = dict(os.environ)
    env.pop("GET_PIP", None)
    ensurepip.bootstrap(upgrade=True, default_pip=True)
    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
    if not any(not arg.startswith("-") for arg in args):
        return 0
    return subprocess.call([sys.executable, "-m", "pip", "install"] + args, env=env)


if __name__ == "__main__":
    sys.exit(main())
'''

MARKER = 'entra.sync ansible-test pip stand-in'


def pip_versions_from_ansible_test() -> list[str]:
    """Return the pip version(s) the installed ansible-test bootstraps into its virtual environments."""
    spec = importlib.util.find_spec('ansible_test')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('ansible-test is not installed in this Python (%s)' % sys.executable)
    path = os.path.join(list(spec.submodule_search_locations)[0], '_internal', 'python_requirements.py')
    with open(path, encoding='utf-8') as handle:
        source = handle.read()
    # get_venv_packages(): default_packages = dict(pip='24.2', ...) and overrides such as {'3.8': dict(pip='23.1.2')}
    found = re.findall(r'''\bpip\s*=\s*['"]([0-9][0-9A-Za-z.]*)['"]''', source)
    found += re.findall(r'''['"]pip['"]\s*:\s*['"]([0-9][0-9A-Za-z.]*)['"]''', source)
    versions = sorted(set(found))
    if not versions:
        raise SystemExit('could not find the pip version in %s; pass it as an argument' % path)
    return versions


def main() -> int:
    """Write the stand-in for each requested pip version whose cache file is missing."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--cache-dir', default=os.path.expanduser('~/.ansible/test/cache'))
    parser.add_argument('--force', action='store_true', help='overwrite an earlier stand-in (never a real get-pip script)')
    parser.add_argument('versions', nargs='*', metavar='VERSION')
    options = parser.parse_args()

    versions = options.versions or pip_versions_from_ansible_test()
    os.makedirs(options.cache_dir, exist_ok=True)
    for version in versions:
        path = os.path.join(options.cache_dir, 'get_pip_%s.py' % version.replace('.', '_'))
        if os.path.exists(path):
            with open(path, encoding='utf-8', errors='replace') as handle:
                ours = MARKER in handle.read()
            if not (options.force and ours):
                print('ansible-test pip %s bootstrap: %s already present (%s)' % (version, path, 'stand-in' if ours else 'kept'))
                continue
        tmp_path = path + '.tmp'
        with open(tmp_path, 'w', encoding='utf-8') as handle:
            handle.write(STANDIN)
        os.replace(tmp_path, path)
        print('ansible-test pip %s bootstrap: wrote offline stand-in %s' % (version, path))
    return 0


if __name__ == '__main__':
    sys.exit(main())
