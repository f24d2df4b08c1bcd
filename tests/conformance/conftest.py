"""Conformance harness: Microsoft's own clients (msgraph-sdk, msgraph-core, azure-identity) against the sandbox.

Runs in its own venv (.build/conformance, made by tests/tools/conformance.sh from tests/conformance/requirements.txt).
The sandbox is started and reset the way the other suites do it (entra_sandbox.pytest_plugin), with the interpreter
of the project's venv (ENTRA_SYNC_VENV, default .venv), so this venv only holds Microsoft's clients; the collection's
playbooks run with that venv's ansible-playbook against the installed collection (ANSIBLE_COLLECTIONS_PATH).
Helpers live in clients.py.
"""

import pytest
from clients import project_python

from entra_sandbox import pytest_plugin

fresh_sandbox = pytest_plugin.fresh_sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The same sandbox as the other suites' (seed, tenants, service principals), served by the project's venv."""
    with pytest_plugin.start_sandbox(tmp_path_factory, python=project_python()) as running:
        yield running


def pytest_configure(config):
    # msgraph-sdk 1.x warns on its own generated request configurations, on every call.
    config.addinivalue_line("filterwarnings", "ignore:This class is deprecated:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:kiota_abstractions")
