"""Run the installed collection's modules with ansible-playbook from the project venv, as a user would."""

import json
import os
import subprocess

import pytest
from clients import PROJECT_VENV, project_python

RUN_TIMEOUT = 300


def run_tasks(sandbox, tmp_path, tasks):
    """One play on localhost with these tasks ({fqcn: args}); fails the test unless every task succeeded."""
    collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
    if not collections or not os.path.isfile(os.path.join(collections.split(os.pathsep)[0], "ansible_collections", "entra", "sync",
                                                          "MANIFEST.json")):
        pytest.fail("ANSIBLE_COLLECTIONS_PATH holds no installed entra.sync: run `make conformance` (it runs `make build`)",
                    pytrace=False)
    playbook = tmp_path / "playbook.yml"
    play = [{"name": "conformance", "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]
    playbook.write_text(json.dumps(play, indent=1))  # JSON is YAML
    env = dict(os.environ, **sandbox.env)
    env.update({"ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false", "ANSIBLE_PYTHON_INTERPRETER": project_python(),
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
                "ANSIBLE_RETRY_FILES_ENABLED": "false"})
    ansible_playbook = os.path.abspath(os.path.join(PROJECT_VENV, "bin", "ansible-playbook"))
    done = subprocess.run([ansible_playbook, str(playbook)], env=env, cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT, check=False)
    assert done.returncode == 0, "ansible-playbook rc=%d\n%s\n%s" % (done.returncode, done.stdout[-4000:], done.stderr[-2000:])
    return done
