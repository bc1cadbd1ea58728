#!/usr/bin/env python3
"""Fails when a module of a crate imports a module that imports it back (directly or
through others).

For every crate under crates/, each .rs file under src/ is a module (`src/a/b.rs` and
`src/a/b/mod.rs` are `a::b`). Its imports are the paths in its `use` declarations
(`crate::…`, `super::…`, `self::…`, or a child module's name) and any `crate::…`/`super::…`
path written in the code. A path names the longest module that exists for it. The crate
root (lib.rs/main.rs) is left out: it declares the modules and re-exports their items as
the crate's facade, so every module "reaches" it. A child's `tests` module is also left
out (it reads its parent by design).

Usage: scripts/check-module-cycles.py [--root REPO_ROOT] [CRATE…] (default: every crate,
named by its directory under crates/, e.g. `store`); exits 1 and lists the cycles when
there is one.
"""

import re
import sys
from pathlib import Path

USE_RE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M | re.S)
INLINE_RE = re.compile(r"\b((?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
COMMENT_RE = re.compile(r"//[^\n]*")


def module_of(src: Path, file: Path) -> tuple[str, ...]:
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "mod":
        parts.pop()
    if parts in (["lib"], ["main"]):
        return ()
    return tuple(parts)


def flatten(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` → ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix: str, text: str) -> None:
        depth, start, items = 0, 0, []
        for i, ch in enumerate(text):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(text[start:i])
                start = i + 1
        items.append(text[start:])
        for item in items:
            if not item:
                continue
            brace = item.find("{")
            if brace >= 0 and item.endswith("}"):
                walk(prefix + item[:brace], item[brace + 1 : -1])
            else:
                out.append(prefix + item.split("as", 1)[0] if "::as" in item else prefix + item)

    walk("", tree)
    return [p.removesuffix("::") for p in out]


def resolve(path: str, here: tuple[str, ...], modules: set, is_use: bool):
    segs = [s for s in path.split("::") if s]
    if not segs:
        return None
    if segs[0] == "crate":
        base, rest = (), segs[1:]
    elif segs[0] in ("super", "self"):
        base = list(here)
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                if not base:
                    return None
                base.pop()
            segs = segs[1:]
        base, rest = tuple(base), segs
    elif is_use and here + (segs[0],) in modules:
        base, rest = here, segs
    else:
        return None  # another crate, std, or an item of this module
    best = None
    for n in range(len(rest) + 1):
        cand = base + tuple(rest[:n])
        if cand in modules:
            best = cand
    return best or None


def edges_of(src: Path):
    files = sorted(src.rglob("*.rs"))
    modules = {module_of(src, f) for f in files}
    edges = {}
    for f in files:
        here = module_of(src, f)
        if not here or here[-1] == "tests":
            continue
        text = COMMENT_RE.sub("", f.read_text(encoding="utf-8"))
        targets = set()
        for m in USE_RE.finditer(text):
            for p in flatten(m.group(1)):
                t = resolve(p, here, modules, True)
                if t:
                    targets.add(t)
        for m in INLINE_RE.finditer(text):
            t = resolve(m.group(1), here, modules, False)
            if t:
                targets.add(t)
        # The root, oneself and one's own ancestors (they declare us) are not edges.
        edges[here] = {
            t for t in targets if t and t != here and here[: len(t)] != t and t[-1] != "tests"
        }
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    return out


def main() -> int:
    args = sys.argv[1:]
    root = Path(__file__).resolve().parent.parent
    if len(args) >= 2 and args[0] == "--root":
        root, args = Path(args[1]), args[2:]
    wanted = set(args)
    failed = False
    checked = 0
    for src in sorted(root.glob("crates/*/src")):
        if wanted and src.parent.name not in wanted:
            continue
        edges = edges_of(src)
        checked += len(edges)
        for comp in cycles(edges):
            failed = True
            names = ["::".join(m) for m in comp]
            print(f"{src.parent.name}: module cycle: {' ↔ '.join(names)}")
            for m in comp:
                back = sorted("::".join(t) for t in edges[m] if t in comp)
                print(f"  {'::'.join(m)} imports {', '.join(back)}")
    if not failed:
        print(f"no module cycles ({checked} modules checked)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
