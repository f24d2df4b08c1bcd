"""pytest fixtures: a session-wide sandbox and a per-test reset.

Use from a conftest.py:
    from entra_sandbox import pytest_plugin
    sandbox = pytest_plugin.sandbox
    fresh_sandbox = pytest_plugin.fresh_sandbox
"""

import pytest

from .testing import SandboxProcess
from .webhooks import WebhookReceiver

SEED = 42
SERVICE_PRINCIPALS = 300


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """One sandbox for the session: seed 42, 2 tenants, 300 service principals each."""
    with SandboxProcess(tmp_path_factory.mktemp("sandbox"), seed=SEED, tenants=2, service_principals=SERVICE_PRINCIPALS) as running:
        yield running


@pytest.fixture
def fresh_sandbox(sandbox):  # pylint: disable=redefined-outer-name  # fixtures name each other this way
    """The session sandbox, reset: regenerated fleet, empty log, zero counters, no faults, default throttle."""
    sandbox.admin.reset(fleet={"seed": SEED, "service_principals": SERVICE_PRINCIPALS}, faults={}, throttle={},
                        token_lifetime=3600)
    sandbox.reload_config()
    return sandbox


@pytest.fixture
def webhooks(tmp_path):
    """A webhook receiver (HTTPS, its own CA at .ca_path) that records every post; see webhooks.py."""
    with WebhookReceiver(str(tmp_path / "webhooks")) as receiver:
        yield receiver
