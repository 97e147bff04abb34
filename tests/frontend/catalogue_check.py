"""Checks the error catalogue of tests/frontend/README.md against the tests.

usage: catalogue_check.py README.md

Every table row under "## Error catalogue" names a message, an exit code and the
tests that trigger it. Each named test must exist (paths relative to the README's
folder; a note in parentheses after a name is ignored), and the longest stretch of
fixed text in the message (placeholders such as FILE, LAYER, N or T1 are upper-case
words; `…` is free text) must appear in at least one of them. Prints one line per
problem and exits 1 if there is any.
"""
import os
import re
import sys

PLACEHOLDER = re.compile(r"\b[A-Z][A-Z0-9_]*(?::[A-Z0-9_]+)*\b|…")


def messages(cell):
    """The backticked messages at the start of a cell: `a`, `b` (note)."""
    out = []
    rest = cell.strip()
    while rest.startswith("`"):
        end = rest.find("`", 1)
        if end < 0:
            break
        out.append(rest[1:end].replace("\\|", "|"))
        rest = rest[end + 1:].lstrip()
        if not rest.startswith(","):
            break
        rest = rest[1:].lstrip()
    return out


def fixed_text(message):
    parts = [p.strip(" '\"`:,.;()") for p in PLACEHOLDER.split(message)]
    return max(parts, key=len) if parts else ""


def main():
    readme = sys.argv[1]
    here = os.path.dirname(os.path.abspath(readme))
    text = open(readme, encoding="utf-8").read()
    catalogue = text.split("## Error catalogue", 1)
    if len(catalogue) != 2:
        print(f"{readme}: no '## Error catalogue' section")
        return 1
    problems = rows = 0
    for line in catalogue[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        # Rows are "| message | exit | tests |"; the message may hold an escaped \|.
        if len(cells) < 3 or cells[0] in ("Message", "---") or set(cells[0]) <= set("-"):
            continue
        line_cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        msg_cell, code, tests = line_cells[0], line_cells[-2].strip(), line_cells[-1]
        rows += 1
        msgs = messages(msg_cell)
        if not msgs or code not in ("1", "2"):
            print(f"row without a message or an exit code of 1 or 2: {line}")
            problems += 1
            continue
        names = [re.sub(r"\s*\(.*\)$", "", t.strip()) for t in tests.split(",") if t.strip()]
        bodies = []
        for name in names:
            path = os.path.normpath(os.path.join(here, name))
            if not os.path.isfile(path):
                print(f"{msgs[0]}: test {name} does not exist")
                problems += 1
            else:
                bodies.append(open(path, encoding="utf-8", errors="replace").read())
        if not names:
            print(f"{msgs[0]}: no test named")
            problems += 1
        for m in msgs:
            fixed = fixed_text(m)
            if len(fixed) >= 6 and bodies and not any(fixed in b for b in bodies):
                print(f"{m}: none of {', '.join(names)} contains '{fixed}'")
                problems += 1
    if rows < 100:
        print(f"only {rows} rows read: is the table format still understood?")
        problems += 1
    print(f"{rows} rows, {problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
