"""Make this repository importable as ansible_collections.entra.sync for the unit tests.

The repository root is the collection, so a symlink under .build/pytest gives it the namespace path
that its own imports use, without installing anything.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_ROOT = REPO_ROOT / ".build" / "pytest"
COLLECTION_LINK = BUILD_ROOT / "ansible_collections" / "entra" / "sync"

if COLLECTION_LINK.is_symlink() and COLLECTION_LINK.resolve() != REPO_ROOT:
    COLLECTION_LINK.unlink()  # left by a checkout that has moved
if not COLLECTION_LINK.exists():
    COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
    try:
        COLLECTION_LINK.symlink_to(REPO_ROOT, target_is_directory=True)
    except FileExistsError:
        pass  # a parallel pytest worker made it first

if str(BUILD_ROOT) not in sys.path:
    sys.path.insert(0, str(BUILD_ROOT))
