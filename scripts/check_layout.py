#!/usr/bin/env python3
"""Layout rules of src/: no file over 500 lines, no function over 80 lines (tests excluded).

A function runs from its `fn` line to the closing brace at the same indentation. Test modules
(`#[cfg(test)] mod tests`) and files named tests.rs do not count.
"""
import pathlib
import re
import sys

MAX_FILE, MAX_FN = 500, 80
FN = re.compile(r"^(\s*)(pub(\([a-z]+\))?\s+)?(const\s+)?(async\s+)?fn\s+(\w+)")


def check(path):
    lines = path.read_text().splitlines()
    problems = []
    end = next((i for i, l in enumerate(lines) if l.strip() == "#[cfg(test)]"), len(lines))
    if end > MAX_FILE:
        problems.append(f"{path}: {end} lines of code (max {MAX_FILE})")
    for i, line in enumerate(lines[:end]):
        m = FN.match(line)
        if not m or line.rstrip().endswith(";"):
            continue
        indent = m.group(1)
        for j in range(i + 1, end):
            if lines[j].startswith(indent + "}") and not lines[j].startswith(indent + " "):
                if j - i + 1 > MAX_FN:
                    problems.append(f"{path}:{i + 1}: fn {m.group(6)} is {j - i + 1} lines (max {MAX_FN})")
                break
    return problems


def main():
    files = [p for p in pathlib.Path("src").rglob("*.rs") if p.name != "tests.rs"]
    problems = [p for f in sorted(files) for p in check(f)]
    for p in problems:
        print(p)
    print(f"layout: {len(files)} files checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
