"""The harness every pytest suite shares: the sandbox, started, reset and stopped.

tests/tools/pytest.sh loads this module as a plugin (-p entra_sandbox.pytest_plugin): every suite gets the fixtures
`sandbox` (one for the session) and `fresh_sandbox` (that one, reset for each test). A suite or test file whose sandbox
differs starts its own with start_sandbox() and resets it with reset_sandbox(); tests/conformance/conftest.py (its own
venv, no -p) serves the sandbox with the project's interpreter that way.
"""

import pytest

from .testing import SandboxProcess

SEED = 42
TENANTS = 2
SERVICE_PRINCIPALS = 300


def start_sandbox(tmp_path_factory, name="sandbox", seed=SEED, tenants=TENANTS, service_principals=SERVICE_PRINCIPALS, **options):
    """A SandboxProcess in a new folder, for a `with` block (it starts on entry and stops on exit); options: the other
    `serve` options of SandboxProcess (python, cloud, latency_ms, ...)."""
    return SandboxProcess(tmp_path_factory.mktemp(name), seed=seed, tenants=tenants, service_principals=service_principals, **options)


def reset_sandbox(running):
    """The sandbox as it started: its generated fleet again, empty log, zero counters, no faults, default throttle,
    one-hour tokens."""
    options = running.serve_options
    running.admin.reset(fleet={"seed": options["seed"], "service_principals": options["service_principals"]}, faults={},
                        throttle={}, token_lifetime=3600)
    running.reload_config()
    return running


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """One sandbox for the session: seed 42, 2 tenants, 300 service principals each."""
    with start_sandbox(tmp_path_factory) as running:
        yield running


@pytest.fixture
def fresh_sandbox(sandbox):  # pylint: disable=redefined-outer-name  # fixtures name each other this way
    """The session sandbox, reset: regenerated fleet, empty log, zero counters, no faults, default throttle."""
    return reset_sandbox(sandbox)
