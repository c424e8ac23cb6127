"""No file of the project links outside the repository: every link is relative and lands on a file here."""
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT = (".md", ".py", ".ipynb", ".toml", ".txt", ".cfg", ".yml", ".yaml", ".json")
#: a Markdown link target, a bare URL, or a path into a folder beside the checkout
LINK = re.compile(r"\]\(([^)\s]+)\)")
URL = re.compile(r"\b(?:https?|ftp)://\S+")
SIBLING = re.compile(r"\.\./shared\b|(?<![\w.])\.\./\.\./")


def _files():
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        names = out.split()
    except (OSError, subprocess.CalledProcessError):  # not a checkout: every file but the build and caches
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()
                 and not {".git", ".venv", "build", "__pycache__"} & set(p.relative_to(ROOT).parts)]
    return sorted(n for n in names if n.endswith(TEXT) and (ROOT / n).is_file())


FILES = _files()


def test_the_walk_sees_the_docs():
    assert "README.md" in FILES and "docs/theory.md" in FILES and "docs/baselines.md" in FILES


@pytest.mark.parametrize("name", FILES)
def test_no_link_leaves_the_repository(name):
    path = ROOT / name
    text = path.read_text(encoding="utf-8", errors="replace")
    assert not URL.search(text), f"{name} links outside the repository: {URL.search(text).group(0)}"
    assert not SIBLING.search(text), f"{name} points beside the checkout: {SIBLING.search(text).group(0)}"
    if not name.endswith(".md"):
        return
    for target in LINK.findall(text):
        if target.startswith("#"):
            continue
        dest = (path.parent / target.split("#")[0]).resolve()
        assert ROOT in dest.parents or dest == ROOT, f"{name}: link {target} leaves the repository"
        assert dest.exists(), f"{name}: link {target} points to a missing file"


def test_the_checker_catches_what_it_should(tmp_path):
    # assembled from pieces at run time, so that this file itself carries no such link
    up, sep, scheme, sibling = "..", "/", "https:", "sha" + "red"
    bad = ["see [x](" + up + sep + sibling + sep + "notes.md)", "see " + scheme + sep * 2 + "example.org",
           "[y](" + up + sep + up + sep + "z.md)"]
    assert all(LINK.search(b) or URL.search(b) or SIBLING.search(b) for b in bad)
    assert SIBLING.search(bad[0]) and URL.search(bad[1])
