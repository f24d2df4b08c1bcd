"""Run the installed collection's modules with ansible-playbook from the project venv, as a user would."""

import json
import os
import subprocess

from clients import PROJECT_VENV, project_python

from entra_sandbox.pytest_plugin import ansible_env

RUN_TIMEOUT = 300


def run_tasks(sandbox, tmp_path, tasks):
    """One play on localhost with these tasks ({fqcn: args}); fails the test unless every task succeeded."""
    env = ansible_env(sandbox, "Run `make conformance` (it runs `make build`).",
                      {"ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false", "ANSIBLE_PYTHON_INTERPRETER": project_python(),
                       "ANSIBLE_RETRY_FILES_ENABLED": "false"})
    playbook = tmp_path / "playbook.yml"
    play = [{"name": "conformance", "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]
    playbook.write_text(json.dumps(play, indent=1))  # JSON is YAML
    ansible_playbook = os.path.abspath(os.path.join(PROJECT_VENV, "bin", "ansible-playbook"))
    done = subprocess.run([ansible_playbook, str(playbook)], env=env, cwd=str(tmp_path), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT, check=False)
    assert done.returncode == 0, "ansible-playbook rc=%d\n%s\n%s" % (done.returncode, done.stdout[-4000:], done.stderr[-2000:])
    return done
