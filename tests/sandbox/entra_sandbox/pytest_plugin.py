"""The harness every pytest suite shares: the sandbox (started, reset, stopped) and the environment of an Ansible run
against it with the INSTALLED collection.

tests/tools/pytest.sh loads this module as a plugin (-p entra_sandbox.pytest_plugin): every suite gets the fixtures
`sandbox` (one for the session) and `fresh_sandbox` (that one, reset for each test). A suite or test file whose sandbox
differs starts its own with start_sandbox() and resets it with reset_sandbox(); tests/conformance/conftest.py (its own
venv, no -p) serves the sandbox with the project's interpreter that way. The integration and EDA harnesses
(tests/integration/conftest.py, tests/eda/conftest.py) and the conformance suite build their Ansible runs' environment
with ansible_env().
"""

import os

import pytest

from .testing import SandboxProcess

SEED = 42
TENANTS = 2
SERVICE_PRINCIPALS = 300
# What every suite's Ansible runs share: plain output, without the warnings of a local run against localhost.
QUIET_ANSIBLE = {
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_FORCE_COLOR": "0",
    "ANSIBLE_LOCALHOST_WARNING": "false",
    "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
    "ANSIBLE_DEPRECATION_WARNINGS": "false",
}


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


def installed_collections(build_hint):
    """ANSIBLE_COLLECTIONS_PATH, whose first folder must hold the installed entra.sync: the tests run what a user
    installs, never the source tree. build_hint: how to build and install it for this suite."""
    path = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.environ.get("ANSIBLE_COLLECTIONS_PATHS")
    if not path:
        pytest.fail("ANSIBLE_COLLECTIONS_PATH is not set: these tests run the INSTALLED collection. %s" % build_hint, pytrace=False)
    if not os.path.isfile(os.path.join(path.split(os.pathsep)[0], "ansible_collections", "entra", "sync", "MANIFEST.json")):
        pytest.fail("ANSIBLE_COLLECTIONS_PATH=%s holds no installed entra.sync. %s" % (path, build_hint), pytrace=False)
    return path


def ansible_env(sandbox, build_hint, settings=None, overrides=None):
    """The environment of an Ansible run against the sandbox (ansible-playbook, ansible-inventory, ansible-rulebook):
    os.environ + sandbox.env + the installed collection (installed_collections) + QUIET_ANSIBLE + the suite's settings
    + a test's overrides, where a value of None removes the variable."""
    env = dict(os.environ)
    env.update(sandbox.env)
    env["ANSIBLE_COLLECTIONS_PATH"] = installed_collections(build_hint)
    env.update(QUIET_ANSIBLE)
    env.update(settings or {})
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = str(value)
    return env


@pytest.fixture
def webhooks(tmp_path):
    """A webhook receiver (HTTPS, its own CA at .ca_path) that records every post; see webhooks.py."""
    # Imported here: the receiver needs trustme, which the conformance suite's venv (it loads this plugin) does not have.
    from .webhooks import WebhookReceiver  # pylint: disable=import-outside-toplevel

    with WebhookReceiver(str(tmp_path / "webhooks")) as receiver:
        yield receiver
