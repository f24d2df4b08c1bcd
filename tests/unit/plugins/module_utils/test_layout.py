# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape of plugins/module_utils that docs/dev/contracts.md promises: private packages by concern, small files.

Everything in module_utils could be imported by another collection once released; a `_` prefix says it is not API
and may change in any release. Nothing there is public today (contracts.md, "What is public").
"""

import ast
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
MODULE_UTILS = os.path.join(ROOT, "plugins", "module_utils")
MAX_TOP_LEVEL_FILES = 10
MAX_FILE_LINES = 450
MAX_FUNCTION_LINES = 60


def _python_files():
    for folder, _dirs, files in os.walk(MODULE_UTILS):
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(folder, name)


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_the_top_holds_few_files_and_only_private_packages():
    entries = sorted(os.listdir(MODULE_UTILS))
    files = [name for name in entries if name.endswith(".py")]
    packages = [name for name in entries if os.path.isdir(os.path.join(MODULE_UTILS, name)) and name != "__pycache__"]
    assert len(files) <= MAX_TOP_LEVEL_FILES, files
    assert packages, "module_utils is grouped by concern into packages"
    public = [name for name in files + packages if not name.startswith("_")]
    assert not public, "%s would be public API once released: make it private (`_` prefix) or document it in contracts.md" % public
    contracts = _read(os.path.join(ROOT, "docs", "dev", "contracts.md"))
    for package in packages:
        assert "plugins/module_utils/%s/" % package in contracts, "contracts.md's layer map does not name %s" % package


def test_every_package_init_is_empty():
    """ansible-test's empty-init check (ansible-core 2.17 and 2.18) refuses code in a module_utils __init__.py."""
    inits = [path for path in _python_files() if os.path.basename(path) == "__init__.py"]
    assert inits
    assert [path for path in inits if _read(path).strip()] == []


def test_files_and_functions_are_small_enough_to_read_in_one_sitting():
    too_long = []
    for path in _python_files():
        source = _read(path)
        name = os.path.relpath(path, ROOT)
        if len(source.splitlines()) > MAX_FILE_LINES:
            too_long.append("%s: %d lines" % (name, len(source.splitlines())))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append("%s: %s() %d lines" % (name, node.name, length))
    assert too_long == []
