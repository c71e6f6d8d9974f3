#!/usr/bin/env python3
"""Checks the guide (docs/) before and after `mdbook build`: every page under docs/src is in
SUMMARY.md (a page left out would never be rendered), every page SUMMARY.md names exists, and
every relative link in a page points at a file that exists and, with a #fragment, at a heading
that exists in it. External links (http:, https:, mailto:) are not fetched: CI has no network
to the web, and a stored copy of a page is not a check of the page.

    python3 .ci/check-book.py docs
"""
import re
import sys
from pathlib import Path

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def slug(heading: str) -> str:
    """mdbook's anchor for a heading: lower case, spaces to dashes, punctuation dropped."""
    text = re.sub(r"`|\*|_(?=\w)|(?<=\w)_", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def prose(path: Path):
    """The lines of a page outside code fences, with inline code removed."""
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            yield re.sub(r"`[^`]*`", "", line)


def anchors(path: Path) -> set:
    return {slug(line.lstrip("#")) for line in prose(path) if line.startswith("#")}


def main(book: Path) -> int:
    src = book / "src"
    errors = []
    summary = src / "SUMMARY.md"
    listed = set()
    for line in prose(summary):
        for match in LINK.finditer(line):
            target = match.group(1) or match.group(2)
            listed.add((src / target).resolve())
            if not (src / target).is_file():
                errors.append(f"SUMMARY.md names {target}, which does not exist")
    for page in sorted(src.rglob("*.md")):
        if page.name != "SUMMARY.md" and page.resolve() not in listed:
            errors.append(f"{page.relative_to(book)} is not in SUMMARY.md")
        for number, line in enumerate(prose(page), 1):
            for match in LINK.finditer(line):
                target = match.group(1) or match.group(2)
                if re.match(r"^[a-z]+:", target):
                    continue
                file, _, fragment = target.partition("#")
                resolved = page if file == "" else (page.parent / file)
                if not resolved.resolve().is_relative_to(book.resolve().parent):
                    errors.append(f"{page.relative_to(book)}:{number}: {target}: outside the repository")
                elif not resolved.exists():
                    errors.append(f"{page.relative_to(book)}:{number}: {target}: no such file")
                elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                    errors.append(f"{page.relative_to(book)}:{number}: {target}: no such heading")
    for error in errors:
        print(error)
    print(f"book: {len(listed)} pages in SUMMARY.md, {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
