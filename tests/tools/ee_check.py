# Copyright: entra.sync contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check what ansible-builder made of entra.sync (run by tests/tools/ee.sh, that is `make ee`).

Without a container engine the image cannot be built, so this checks each thing the build would use:

* the collection's own metadata: requirements.txt and meta/ee-requirements.txt name the same packages with the
  same lower bounds (requests, msal, cryptography at least), and meta/execution-environment.yml points at the
  latter;
* the output of `ansible-builder introspect --sanitize` over a collections path holding the built collection:
  those packages, each "from collection entra.sync", and no system package;
* the build context of the example definition (extensions/ee/execution-environment.yml) that
  `ansible-builder create` wrote: the Containerfile installs Python, ansible-core and ansible-runner, installs
  the collections of _build/requirements.yml and runs the introspect step; _build/requirements.yml installs the
  collection tarball that the context carries; that tarball is entra.sync with its EE metadata inside;
* the builder stage itself, done here on the host: the tarball from the context is installed with
  ansible-galaxy as the galaxy stage would, then the context's own _build/scripts/introspect.py writes the pip
  requirements the image would install: they must be the collection's.

Every problem found is printed; the exit status is 1 if there was any.

* with --pip-resolve, pip (a dry run for the image's Python, wheels only) resolves the image's installs together:
  the definition's ansible-core and ansible-runner and the collection's requirements.

Usage: python ee_check.py --root REPO --introspect FILE --context DIR [--work DIR] [--pip-resolve]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

COLLECTION = "entra.sync"
# What the collection imports at run time; each must be declared, with a lower bound.
NEEDED = ("requests", "msal", "cryptography")
TARBALL = "entra-sync.tar.gz"
# In the image, the galaxy stage runs `COPY _build /build`: /build/X in _build/requirements.yml is _build/X here.
IMAGE_BUILD_DIR = "/build/"


def parse_requirements(text, where):
    """A pip requirements text as {canonical name: specifier string}, and the problems found in it."""
    found, problems = {}, []
    for number, line in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if not line:
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement as exc:
            problems.append("%s:%d: not a requirement: %r (%s)" % (where, number, line, exc))
            continue
        name = canonicalize_name(req.name)
        if name in found:
            problems.append("%s:%d: %s is listed twice" % (where, number, req.name))
        found[name] = str(req.specifier)
    return found, problems


def check_declared(found, where):
    """Every package the collection imports is declared with a lower bound."""
    problems = []
    for name in NEEDED:
        spec = found.get(name)
        if spec is None:
            problems.append("%s does not list %s, which the collection imports" % (where, name))
        elif not any(part.startswith((">=", "~=", "==")) for part in spec.split(",")):
            problems.append("%s lists %s without a lower bound (%r)" % (where, name, spec))
    return problems


def check_metadata(root):
    """requirements.txt, meta/ee-requirements.txt and meta/execution-environment.yml agree; returns (expected, problems)."""
    problems = []
    with open(os.path.join(root, "meta", "execution-environment.yml"), encoding="utf-8") as handle:
        meta = yaml.safe_load(handle) or {}
    python = (meta.get("dependencies") or {}).get("python")
    if python != "meta/ee-requirements.txt":
        problems.append("meta/execution-environment.yml: dependencies.python is %r, expected 'meta/ee-requirements.txt'" % (python,))
    if (meta.get("dependencies") or {}).get("system"):
        system = meta["dependencies"]["system"]
        if not os.path.isfile(os.path.join(root, system)):
            problems.append("meta/execution-environment.yml: dependencies.system names %r, which does not exist" % system)
    files = {}
    for rel in ("requirements.txt", "meta/ee-requirements.txt"):
        with open(os.path.join(root, rel), encoding="utf-8") as handle:
            files[rel], found_problems = parse_requirements(handle.read(), rel)
        problems += found_problems + check_declared(files[rel], rel)
    if files["requirements.txt"] != files["meta/ee-requirements.txt"]:
        problems.append(
            "requirements.txt %s and meta/ee-requirements.txt %s differ: an execution environment would not get what "
            "a controller gets" % (_show(files["requirements.txt"]), _show(files["meta/ee-requirements.txt"]))
        )
    return files["meta/ee-requirements.txt"], problems


def _show(requirements):
    return ", ".join("%s%s" % item for item in sorted(requirements.items())) or "(nothing)"


def check_introspect_output(text, expected, where):
    """The YAML `ansible-builder introspect` prints (after its comment line): python entries from entra.sync only."""
    problems = []
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        return ["%s: not YAML: %s" % (where, exc)]
    if not isinstance(data, dict):
        return ["%s: expected a mapping with python and system, got %r" % (where, data)]
    entries = data.get("python") or []
    found = {}
    for entry in entries:
        requirement, _sep, origin = str(entry).partition("#")
        if origin.strip() != "from collection %s" % COLLECTION:
            problems.append("%s: %r does not come from collection %s" % (where, entry, COLLECTION))
        parsed, parse_problems = parse_requirements(requirement, where)
        problems += parse_problems
        found.update(parsed)
    if found != expected:
        problems.append("%s: python requirements are %s, expected %s (meta/ee-requirements.txt)" % (where, _show(found), _show(expected)))
    if data.get("system"):
        problems.append("%s: system packages %r, but the collection declares none" % (where, data["system"]))
    return problems


CONTAINERFILE_STEPS = (
    # (what, regular expression over the whole Containerfile)
    ("a base stage from the base image", r"^FROM \$EE_BASE_IMAGE AS base$"),
    ("the python interpreter package is installed", r"^ARG PYPKG=\"python3\.\d+\"$"),
    ("ansible-core is installed", r"^ARG ANSIBLE_INSTALL_REFS=\"[^\"]*\bansible-core\b[^\"]*\"$"),
    ("ansible-runner is installed", r"^ARG ANSIBLE_INSTALL_REFS=\"[^\"]*\bansible-runner\b[^\"]*\"$"),
    ("the install refs are pip-installed", r"^RUN \$PYCMD -m pip install --no-cache-dir \$ANSIBLE_INSTALL_REFS$"),
    ("a galaxy stage", r"^FROM base AS galaxy$"),
    ("the build files are copied", r"^COPY _build /build$"),
    ("the collections of requirements.yml are installed",
     r"^RUN .*ansible-galaxy collection install .*-r requirements\.yml --collections-path \"/usr/share/ansible/collections\"$"),
    ("the collections reach the builder stage", r"^FROM base AS builder$(?:.|\n)*?^COPY --from=galaxy /usr/share/ansible /usr/share/ansible$"),
    ("collection requirements are introspected", r"^RUN \$PYCMD /output/scripts/introspect\.py introspect .*--write-pip=/tmp/src/requirements\.txt"),
    ("the requirements are assembled", r"^RUN /output/scripts/assemble$"),
    ("the final stage checks ansible and ansible-runner", r"^FROM base AS final$(?:.|\n)*?^RUN /output/scripts/check_ansible \$PYCMD$"),
    ("the final stage gets the collections", r"^FROM base AS final$(?:.|\n)*?^COPY --from=galaxy /usr/share/ansible /usr/share/ansible$"),
    ("the final stage gets the builder's output", r"^FROM base AS final$(?:.|\n)*?^COPY --from=builder /output/ /output/$"),
    ("the final stage installs the wheels", r"^RUN /output/scripts/install-from-bindep"),
)


def check_containerfile(text, where):
    return ["%s: %s: no line matches %r" % (where, what, pattern)
            for what, pattern in CONTAINERFILE_STEPS if not re.search(pattern, text, re.MULTILINE)]


def collection_tarballs(context):
    """The collection tarballs _build/requirements.yml installs, as paths inside the context; and the problems."""
    problems, tarballs = [], []
    path = os.path.join(context, "_build", "requirements.yml")
    if not os.path.isfile(path):
        return [], ["%s: missing (the definition has no galaxy dependencies?)" % path]
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    for entry in data.get("collections") or []:
        if not isinstance(entry, dict) or entry.get("type") != "file":
            continue
        name = str(entry.get("name", ""))
        if not name.startswith(IMAGE_BUILD_DIR):
            problems.append("%s: %r is not under %s, where the galaxy stage copies _build" % (path, name, IMAGE_BUILD_DIR))
            continue
        local = os.path.join(context, "_build", name[len(IMAGE_BUILD_DIR):])
        if not os.path.isfile(local):
            problems.append("%s: installs %s, but the context has no %s" % (path, name, local))
            continue
        tarballs.append(local)
    if not tarballs and not problems:
        problems.append("%s: installs no collection tarball (%r)" % (path, data))
    return tarballs, problems


def read_manifest(tarball):
    """(namespace.name, version, the set of files in the tarball) of a collection tarball."""
    with tarfile.open(tarball, "r:gz") as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    return "%s.%s" % (info["namespace"], info["name"]), info["version"], names


def check_tarball(tarball):
    try:
        fqcn, _version, names = read_manifest(tarball)
    except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
        return ["%s: not a collection tarball (%s)" % (tarball, exc)]
    problems = []
    if fqcn != COLLECTION:
        problems.append("%s: is collection %s, expected %s" % (tarball, fqcn, COLLECTION))
    for needed in ("meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/runtime.yml"):
        if needed not in names:
            problems.append("%s: has no %s (build_ignore in galaxy.yml?): ansible-builder would miss the requirements" % (tarball, needed))
    return problems


def install_refs(containerfile_text):
    """(Python version of PYCMD, the ANSIBLE_INSTALL_REFS pip specs) of a Containerfile."""
    pycmd = re.search(r'^ARG PYCMD="[^"]*?python(\d+\.\d+)"$', containerfile_text, re.MULTILINE)
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"$', containerfile_text, re.MULTILINE)
    return (pycmd.group(1) if pycmd else None), (refs.group(1).split() if refs else [])


def pip_resolve(python_version, refs, requirements_file, work):
    """Ask pip (dry run, wheels only, for the image's Python) whether the image's pip installs resolve together."""
    report = os.path.join(work, "pip-report.json")
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--only-binary=:all:",
               "--python-version", python_version, "--report", report] + refs + ["-r", requirements_file]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return ["pip cannot resolve %s with the collection's requirements for Python %s: %s"
                % (" ".join(refs), python_version, (result.stderr or result.stdout).strip()[-2000:])], {}
    with open(report, encoding="utf-8") as handle:
        chosen = {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"] for item in json.load(handle)["install"]}
    return [], chosen


def run_builder_stage(context, tarball, work, expected):
    """Do the galaxy and builder stages' work on the host and check the pip requirements they produce."""
    collections = os.path.join(work, "collections")
    galaxy = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    result = subprocess.run(
        [galaxy, "collection", "install", "--force", "-p", collections, tarball],
        capture_output=True, text=True, check=False,
        env=dict(os.environ, ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1", ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false"),
    )
    if result.returncode != 0:
        return ["ansible-galaxy collection install %s failed: %s" % (tarball, (result.stderr or result.stdout).strip())], None
    pip_out = os.path.join(work, "requirements.txt")
    script = os.path.join(context, "_build", "scripts", "introspect.py")
    result = subprocess.run(
        [sys.executable, script, "introspect", "--write-bindep", os.path.join(work, "bindep.txt"), "--write-pip", pip_out, collections],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        return ["%s introspect failed: %s" % (script, (result.stderr or result.stdout).strip())], None
    problems = check_introspect_output(result.stdout, expected, "the context's introspect.py output")
    if not os.path.isfile(pip_out):
        return problems + ["the context's introspect.py wrote no pip requirements (%s)" % pip_out], None
    with open(pip_out, encoding="utf-8") as handle:
        found, parse_problems = parse_requirements(handle.read(), pip_out)
    problems += parse_problems
    if found != expected:
        problems.append("%s: the image would pip-install %s, expected %s" % (pip_out, _show(found), _show(expected)))
    return problems, pip_out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="the collection checkout")
    parser.add_argument("--introspect", required=True, help="stdout of `ansible-builder introspect --sanitize` over the installed collection")
    parser.add_argument("--context", required=True, help="the build context `ansible-builder create` wrote")
    parser.add_argument("--work", help="scratch directory (default: a temporary one)")
    parser.add_argument("--pip-resolve", action="store_true",
                        help="also ask pip (dry run, from the package index) whether the image's pip installs resolve together")
    args = parser.parse_args(argv)

    expected, problems = check_metadata(args.root)
    with open(args.introspect, encoding="utf-8") as handle:
        problems += check_introspect_output(handle.read(), expected, "ansible-builder introspect")
    containerfile = os.path.join(args.context, "Containerfile")
    containerfile_text = ""
    if os.path.isfile(containerfile):
        with open(containerfile, encoding="utf-8") as handle:
            containerfile_text = handle.read()
        problems += check_containerfile(containerfile_text, containerfile)
    else:
        problems.append("%s: missing" % containerfile)
    tarballs, found_problems = collection_tarballs(args.context)
    problems += found_problems
    for tarball in tarballs:
        problems += check_tarball(tarball)
    ours = [tarball for tarball in tarballs if not check_tarball(tarball)]
    if ours:
        with tempfile.TemporaryDirectory(prefix="ee-check-", dir=args.work) as work:
            stage_problems, pip_file = run_builder_stage(args.context, ours[0], work, expected)
            problems += stage_problems
            python_version, refs = install_refs(containerfile_text)
            if args.pip_resolve and pip_file and python_version and refs:
                resolve_problems, chosen = pip_resolve(python_version, refs, pip_file, work)
                problems += resolve_problems
                if chosen:
                    print("ee: pip resolves the image's installs for Python %s: %s" % (
                        python_version, ", ".join("%s %s" % (name, chosen[name]) for name in sorted(chosen) if name in expected or
                                                  name in ("ansible-core", "ansible-runner"))))

    for problem in problems:
        print("ee: PROBLEM: %s" % problem)
    if problems:
        print("ee: %d problem(s)" % len(problems))
        return 1
    print("ee: ok: %s in the context (%s); the image would pip-install %s" % (COLLECTION, os.path.basename(tarballs[0]), _show(expected)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
