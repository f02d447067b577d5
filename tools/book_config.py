"""Write the book's configuration for one build: ``_config.yml`` plus options.

Usage::

    python tools/book_config.py OUT.yml [--repository-url URL] [--branch NAME]
                                        [--offline-mathjax FOLDER]

``_config.yml`` carries no repository address: the book does not know where
it is published.  With ``--repository-url`` (the publishing workflow passes
``https://github.com/${{ github.repository }}``, so a fork gets its own links)
the written configuration turns on, from that one setting, the repository
and issue buttons, the "suggest edit" button and the launch buttons (Colab
and Binder) of every notebook page.  Without it, the copy has none of these
buttons, rather than broken ones.

``--offline-mathjax FOLDER`` points ``mathjax_path`` at a local copy of
MathJax 3 that Sphinx copies from ``FOLDER`` (listed in ``html_static_path``;
not ``_static/``, whose every ``.js`` would be loaded by every page) into
``_static/mathjax/`` (``make book-offline``).

The folders of local Sphinx extensions are rewritten relative to ``OUT.yml``,
where Jupyter Book looks for them.

Build with ``jupyter-book build . --config OUT.yml``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import sys
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
GITHUB_URL = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def configure(
    config: dict[str, Any],
    repository_url: str | None = None,
    branch: str = "main",
    offline_mathjax: str | None = None,
) -> dict[str, Any]:
    """Return ``config`` with the repository buttons and/or local MathJax set."""
    if repository_url:
        repository_url = repository_url.rstrip("/")
        if not GITHUB_URL.fullmatch(repository_url):
            raise ValueError(
                f"repository_url must look like https://github.com/OWNER/NAME, "
                f"got {repository_url!r}"
            )
        config["repository"] = {
            "url": repository_url,
            "path_to_book": "",
            "branch": branch,
        }
        config.setdefault("html", {}).update(
            use_repository_button=True,
            use_issues_button=True,
            use_edit_page_button=True,
        )
        config["launch_buttons"] = {
            "notebook_interface": "classic",
            "binderhub_url": "https://mybinder.org",
            "colab_url": "https://colab.research.google.com",
        }
    if offline_mathjax:
        config["exclude_patterns"].append(offline_mathjax)
        sphinx = config.setdefault("sphinx", {}).setdefault("config", {})
        sphinx["mathjax_path"] = "mathjax/tex-mml-chtml.js"
        sphinx["html_static_path"] = [offline_mathjax]
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=pathlib.Path)
    parser.add_argument("--source", type=pathlib.Path, default=ROOT / "_config.yml")
    parser.add_argument("--repository-url", default=None)
    parser.add_argument("--branch", default="main")
    parser.add_argument("--offline-mathjax", default=None, metavar="FOLDER")
    args = parser.parse_args(argv)
    with args.source.open(encoding="utf8") as f:
        config = yaml.safe_load(f)
    config = configure(
        config,
        repository_url=args.repository_url,
        branch=args.branch,
        offline_mathjax=args.offline_mathjax,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # Jupyter Book finds local extensions relative to the configuration file.
    extensions = config.get("sphinx", {}).get("local_extensions") or {}
    for name, folder in extensions.items():
        source_folder = (args.source.resolve().parent / folder).resolve()
        extensions[name] = os.path.relpath(source_folder, args.output.resolve().parent)
    with args.output.open("w", encoding="utf8") as f:
        yaml.safe_dump(config, f, allow_unicode=True, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
