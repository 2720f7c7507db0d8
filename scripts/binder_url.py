"""Print the Binder link that opens this course in JupyterLab, for the repository you publish.

    python -m scripts.binder_url              # from `git remote get-url origin`
    BINDER_REPO=owner/name python -m scripts.binder_url

Binder builds a public GitHub repository, so the link depends on where your copy lives; it
is derived from one setting (``BINDER_REPO``, else the ``origin`` remote) rather than written
into the README by hand.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys

GITHUB = re.compile(r"github\.com[:/](?P<repo>[\w.-]+/[\w.-]+?)(?:\.git)?/?$")


def repository(remote_url: str | None = None) -> str:
    """``owner/name`` from ``BINDER_REPO`` or a GitHub remote URL (https or ssh)."""
    configured = os.environ.get("BINDER_REPO", "").strip()
    if configured:
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", configured):
            raise ValueError(f"BINDER_REPO={configured!r}: expected owner/name, e.g. my-school/gans-for-medicine")
        return configured
    if remote_url is None:
        found = subprocess.run(["git", "remote", "get-url", "origin"], capture_output=True, text=True)
        remote_url = found.stdout.strip() if found.returncode == 0 else ""
    match = GITHUB.search(remote_url)
    if not match:
        raise ValueError("no GitHub repository to build on Binder: push this course to GitHub and add it as the "
                         "`origin` remote, or set BINDER_REPO=owner/name"
                         + (f" (origin is {remote_url!r})" if remote_url else ""))
    return match.group("repo")


def binder_url(repo: str, ref: str = "HEAD") -> str:
    """The mybinder.org link that builds ``repo`` and opens JupyterLab on the student notebooks."""
    return f"https://mybinder.org/v2/gh/{repo}/{ref}?urlpath=lab/tree/course"


def main() -> int:
    try:
        print(binder_url(repository()))
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
