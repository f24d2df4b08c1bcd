# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/getting-started.md's "By hand" steps, run as written against the sandbox tenant.

The guide's own blocks are taken from the Markdown (tests/tools/doc_blocks.py): the build-and-install block, the
playbook, and the sandbox block, run by bash in a copy of the checkout with HOME in tmp_path (so
~/.ansible/collections and ~/entra-sync-try are the test's own).  What cannot run here is left out and named:
`make venv-runtime` (the copy's .venv is a link to this interpreter's venv, which no test may install into).  The
copy is a fresh git repository too, so the test also shows that the playbook saved where the guide says stays out of
the tarball.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUIDE = os.path.join(ROOT, "docs", "getting-started.md")
_SPEC = importlib.util.spec_from_file_location("doc_blocks", os.path.join(ROOT, "tests", "tools", "doc_blocks.py"))
doc_blocks = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(doc_blocks)

NOT_RUN_HERE = ("make venv-runtime",)
# What the caller's environment may hold and the guide's reader would not: a collections path, a tenant.
LEAKS = ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "ANSIBLE_CONFIG", "PYTHONPATH", "VIRTUAL_ENV")


def _guide_block(heading, language, index=0):
    with open(GUIDE, encoding="utf-8") as handle:
        blocks = [body for lang, body in doc_blocks.fenced_blocks(handle.read(), heading) if lang == language]
    return blocks[index]


def _runnable(block):
    return "".join(line + "\n" for line in block.splitlines() if not line.startswith(NOT_RUN_HERE))


def _copy_checkout(dest):
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for path in listed:
        if not path or path.startswith((".venv/", ".build/")) or not os.path.lexists(os.path.join(ROOT, path)):
            continue
        target = os.path.join(dest, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, path), target, follow_symlinks=False)
    os.symlink(os.path.dirname(os.path.dirname(sys.executable)), os.path.join(dest, ".venv"))


def _env(home):
    env = {name: value for name, value in os.environ.items()
           if name not in LEAKS and not name.startswith(("AZURE_", "ENTRA_SYNC_", "ENTRA_SANDBOX_", "ARM_"))}
    env["HOME"] = str(home)
    return env


def test_the_by_hand_steps_run_as_written(tmp_path):
    checkout, home = tmp_path / "checkout", tmp_path / "home"
    _copy_checkout(checkout)
    playbook = home / "entra-sync-try" / "first_restart.yml"
    playbook.parent.mkdir(parents=True)
    playbook.write_text(_guide_block("A first check-mode restart", "yaml"))
    script = "\n".join([
        "set -euo pipefail",
        "trap 'kill $(jobs -p) 2> /dev/null || true' EXIT",  # the sandbox, if a step fails before the guide's kill
        "echo '=== install'",
        _runnable(_guide_block("Install from the built tarball", "console")),
        "echo '=== sandbox'",
        _runnable(_guide_block("Against the sandbox tenant", "console")),
    ])
    proc = subprocess.run(["bash", "-c", script], cwd=checkout, env=_env(home), capture_output=True, text=True,
                          timeout=600, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:]

    # Installed where the guide says, documented by ansible-doc.
    assert (home / ".ansible" / "collections" / "ansible_collections" / "entra" / "sync" / "MANIFEST.json").is_file()
    assert "ENTRA.SYNC.SYNC_JOB_RESTART" in out.upper()
    (tarball,) = list((checkout / "dist").glob("entra-sync-*.tar.gz"))
    with tarfile.open(tarball) as archive:
        assert not [name for name in archive.getnames() if name.endswith("first_restart.yml")]

    check_run, restart_run, third_run = out.split("PLAY [A first restart, in check mode]")[1:]
    # Check mode: the diff of the job the restart would touch, no restart sent.
    assert "+        \"restart_requested\": true," in check_run, check_run
    # The second run restarts it, and says why.
    assert "\"action\": \"restarted\"" in restart_run, restart_run
    assert "matches restart_if quarantined" in restart_run, restart_run
    # The third finds no quarantined job, and the restart task is skipped by its when:.
    third_restart_task = third_run.split("TASK [Restart the first one, only if it is still quarantined]")[1]
    assert "skipping: [localhost]" in third_restart_task, third_run
    assert "changed=0" in third_run, third_run
