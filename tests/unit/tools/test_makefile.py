# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make help` names only files that exist, and `make demo` installs only what the demo and the sandbox need."""

import ast
import glob
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# Paths a help line names as an output (written by the target), not as an input.
OUTPUTS = ("tests/bench/results/",)
# Import name -> distribution name, where they differ.
DISTRIBUTIONS = {"jwt": "pyjwt"}
# The sandbox's pytest glue, which only the test runs load.
TEST_ONLY = {"pytest_plugin.py", "testing.py"}


def _read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as handle:
        return handle.read()


def _targets():
    """target -> (prerequisites, help text) for each target that has a `## ` help text."""
    found = {}
    for match in re.finditer(r"^([a-z-]+):([^#\n]*)## (.*)$", _read("Makefile"), re.M):
        found[match.group(1)] = (match.group(2).split(), match.group(3))
    return found


def _requirements(*path):
    """The distribution names a requirements file asks for, following its -r includes."""
    names = set()
    for line in _read(*path).splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            included = os.path.normpath(os.path.join(os.path.dirname(os.path.join(*path)), line[3:].strip()))
            names |= _requirements(included)
        elif line:
            names.add(re.split(r"[<>=~!\[; ]", line, maxsplit=1)[0].lower())
    return names


def test_help_names_only_files_that_exist():
    targets = _targets()
    assert {"help", "demo", "venv", "venv-runtime", "test"} <= set(targets)
    for target, (_prerequisites, text) in targets.items():
        for path in re.findall(r"(?<![\w./])(?:tests|playbooks|extensions|docs|roles|plugins|examples)/[\w./-]*\w", text):
            if not path.startswith(OUTPUTS):
                assert os.path.exists(os.path.join(ROOT, path)), "make help %s names %s, which does not exist" % (target, path)


def test_demo_sets_up_only_the_runtime_venv():
    prerequisites, _text = _targets()["demo"]
    assert prerequisites == ["venv-runtime"]
    assert "tests/requirements-demo.txt" in _read("Makefile").split("$(RUNTIME_STAMP):", 1)[1].split("\n\n", 1)[0]


def test_heal_demo_sets_up_only_the_runtime_venv_and_the_rulebook():
    """make heal-demo installs what make demo does; ansible-rulebook goes into .build/eda, never the test tool set."""
    prerequisites, _text = _targets()["heal-demo"]
    assert prerequisites == ["venv-runtime"]
    script = _read("tests", "tools", "heal_demo.sh")
    assert "requirements-eda.txt" in script and "requirements-dev.txt" not in script


def test_demo_requirements_hold_the_runtime_ansible_core_and_every_sandbox_import():
    demo = _requirements("tests", "requirements-demo.txt")
    assert "ansible-core" in demo
    assert _requirements("requirements.txt") <= demo
    imported = set()
    for path in glob.glob(os.path.join(ROOT, "tests", "sandbox", "entra_sandbox", "*.py")):
        if os.path.basename(path) in TEST_ONLY:
            continue
        for node in ast.walk(ast.parse(_read(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {name for name in imported if name not in sys.stdlib_module_names}
    assert third_party, "the sandbox imports no third-party library?"
    missing = {DISTRIBUTIONS.get(name, name) for name in third_party} - demo
    assert not missing, "the sandbox imports %s, which tests/requirements-demo.txt does not install" % missing


def test_dev_requirements_add_the_test_tools_to_the_demo_set():
    dev = _requirements("tests", "requirements-dev.txt")
    assert _requirements("tests", "requirements-demo.txt") <= dev
    assert {"pytest", "ansible-lint", "antsibull-docs", "ansible-builder"} <= dev
