#!/usr/bin/env python3
"""Which top-level modules of src/ each one imports, and whether that graph
has a circle.

    python3 tools/module_deps.py            # one line per folder, then the check
    python3 tools/module_deps.py --files    # one line per file as well

An import is `crate::X` (also inside `use crate::{...}`), `super::super::X`,
or a name the crate root re-exports (`crate::Gated` counts as the folder
that src/lib.rs re-exports it from). Comments (doc links included) are not
imports. Exits 1 where the folders import each other in a circle.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "src"


def strip_comments(text):
    return re.sub(r"//[^\n]*", "", text)


def top_modules():
    return sorted(
        p.name if p.is_dir() else p.stem
        for p in ROOT.iterdir()
        if (p.is_dir() or p.suffix == ".rs") and p.name != "lib.rs"
    )


def root_reexports(tops):
    """name -> top-level module, for every `pub use top::...;` of lib.rs."""
    names = {}
    lib = strip_comments((ROOT / "lib.rs").read_text())
    for top, rest in re.findall(r"pub use (\w+)::([^;]*);", lib, re.S):
        if top in tops:
            tail = rest[rest.index("{"):] if "{" in rest else rest.split("::")[-1]
            for name in re.findall(r"\w+", tail):
                names[name] = top
    return names


def imports(text, here, tops, reexports):
    """top-level module -> the names through which `text` reaches it."""
    found = {}
    text = strip_comments(text)
    for group in re.findall(r"crate::(\{[^;]*?\}|\w+)", text, re.S):
        first = re.findall(r"(?:^|[{,])\s*(\w+)", group) if group.startswith("{") else [group]
        for name in first:
            top = name if name in tops else reexports.get(name)
            if top and top != here:
                found.setdefault(top, set()).add(name)
    for name in re.findall(r"super::super::(\w+)", text):
        if name in tops and name != here:
            found.setdefault(name, set()).add(name)
    return found


def main():
    tops = top_modules()
    reexports = root_reexports(tops)
    graph = {}
    for top in tops:
        path = ROOT / top
        files = sorted(path.rglob("*.rs")) if path.is_dir() else [ROOT / f"{top}.rs"]
        deps = {}
        for f in files:
            found = imports(f.read_text(), top, tops, reexports)
            if "--files" in sys.argv:
                print(f"  {f.relative_to(ROOT)}: {', '.join(sorted(found)) or '-'}")
            for dep, names in found.items():
                deps.setdefault(dep, set()).update(names)
        graph[top] = deps
    for top in tops:
        deps = ", ".join(sorted(graph[top])) or "nothing"
        print(f"{top:10} imports {deps}")

    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                cycles.append(path[path.index(dep):] + [dep])
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = "done"

    for top in tops:
        if top not in state:
            visit(top, [top])
    if cycles:
        for cycle in cycles:
            print("circle: " + " -> ".join(cycle))
        sys.exit(1)
    order, seen = [], set()

    def place(node):
        if node not in seen:
            seen.add(node)
            for dep in sorted(graph[node]):
                place(dep)
            order.append(node)

    for top in tops:
        place(top)
    print("no circle; from the bottom: " + " <- ".join(order))


if __name__ == "__main__":
    main()
