# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demos' work folders (make demo, make heal-demo), kept the way the collection keeps its own (private_files.py):
made 0700, or used only when this user owns it and nobody else can write in it; else the refusal and exit status 1.

    private_dir.py [--empty] PATH      (--empty: remove what the folder holds, once it passed)

It imports the installed collection (.build/collections), as the demos run it.
"""

import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.entra.sync.plugins.module_utils._controller.private_files import Place, ensure_private_dir  # noqa: E402
from ansible_collections.entra.sync.plugins.module_utils._exceptions import LocalFileError  # noqa: E402


def demo_dir(path, empty=False, setting="DEMO_STATE_DIR"):
    """The absolute path of the demo's folder, made or judged (LocalFileError), emptied when asked. setting: what moves
    it ("" when nothing does: the refusal then says only what to do about the folder)."""
    path = ensure_private_dir(path, Place("the demo's work directory", "a demo file", setting))
    if empty:
        for name in os.listdir(path):
            entry = os.path.join(path, name)
            if os.path.isdir(entry) and not os.path.islink(entry):
                shutil.rmtree(entry)
            else:
                os.unlink(entry)
    return path


def demo_dir_or_exit(path, empty=False, name="demo", setting="DEMO_STATE_DIR"):
    """demo_dir, or the refusal on standard error and exit status 1."""
    try:
        return demo_dir(path, empty, setting)
    except LocalFileError as exc:
        sys.exit("%s: %s" % (name, exc))


def main(argv):
    paths = [arg for arg in argv if arg != "--empty"]
    if len(paths) != 1:
        sys.exit("usage: private_dir.py [--empty] PATH")
    demo_dir_or_exit(paths[0], "--empty" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
