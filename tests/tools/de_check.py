# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the build context `ansible-builder create` made of extensions/eda/decision-environment.yml (run by ee.sh).

A decision environment must bring ansible-rulebook, a Java 17 runtime for its rules engine, and the collection whose
event source and rulebook it runs. Without a container engine the image cannot be built, so this checks what the
build would use: the definition, the context's Python and system requirements, the collection it installs, and that
the tarball in the context holds the event source, the rulebook and the playbooks the rulebook runs.

Usage: python de_check.py --definition FILE --context DIR. Prints every problem; exit status 1 if there was any.
"""

import argparse
import os
import sys
import tarfile

import yaml

TARBALL = "entra-sync.tar.gz"
IN_TARBALL = (
    "extensions/eda/plugins/event_source/sync_job_events.py",
    "extensions/eda/rulebooks/self_heal.yml",
    "extensions/eda/rulebooks/self_heal_controller.yml",
    "playbooks/heal.yml",
    "playbooks/escalate.yml",
    "plugins/module_utils/_heal/heal_source.py",
    "plugins/module_utils/_heal/heal_state.py",
    "plugins/module_utils/_heal/heal_store.py",
    "plugins/module_utils/_controller/lease.py",
    "plugins/module_utils/_controller/private_files.py",
)


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def check(definition_path, context):
    problems = []
    definition = yaml.safe_load(read(definition_path))
    if definition.get("version") != 3:
        problems.append("%s: version must be 3 (ansible-builder 3)" % definition_path)
    build = os.path.join(context, "_build")
    python_reqs = read(os.path.join(build, "requirements.txt")) if os.path.exists(os.path.join(build, "requirements.txt")) else ""
    if "ansible-rulebook" not in python_reqs:
        problems.append("_build/requirements.txt does not install ansible-rulebook")
    bindep = read(os.path.join(build, "bindep.txt")) if os.path.exists(os.path.join(build, "bindep.txt")) else ""
    if "java-17" not in bindep:
        problems.append("_build/bindep.txt installs no Java 17 runtime (ansible-rulebook needs one)")
    galaxy = yaml.safe_load(read(os.path.join(build, "requirements.yml"))) or {}
    names = [entry.get("name") for entry in galaxy.get("collections", [])]
    if "/build/collections/" + TARBALL not in names:
        problems.append("_build/requirements.yml does not install the collection tarball: %s" % names)
    containerfile = read(os.path.join(context, "Containerfile"))
    for needed in ("ansible-galaxy", "assemble", "bindep"):
        if needed not in containerfile:
            problems.append("the Containerfile has no %s step" % needed)
    tarball = os.path.join(build, "collections", TARBALL)
    if not os.path.exists(tarball):
        return problems + ["the context carries no %s" % TARBALL]
    with tarfile.open(tarball) as archive:
        members = set(archive.getnames())
    problems += ["%s lacks %s" % (TARBALL, name) for name in IN_TARBALL if name not in members]
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--definition", required=True)
    parser.add_argument("--context", required=True)
    args = parser.parse_args(argv)
    problems = check(args.definition, args.context)
    for problem in problems:
        print("de: " + problem, file=sys.stderr)
    if not problems:
        print("de: the decision environment context installs ansible-rulebook, Java 17 and entra.sync with its event source")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
