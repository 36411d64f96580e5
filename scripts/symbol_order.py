"""The static build's link order, from a trace of a default run.

Used by scripts/symbol-order (writes link/x86_64-musl.order) and
scripts/symbol-order --check (CI: the checked-in list still matches the build).

Both read the layout from the link map of the release build itself
(RUNAS_LINK_MAP, link/ld.lld), never from a build with symbols kept: the
profile is part of the hash in every Rust symbol name, so a build that keeps
its symbols names its functions differently from the one that ships, and an
order made from it would match none of runas's own functions.

    symbol_order.py order MAP TRACE OUT     write the order
    symbol_order.py check MAP TRACE LIST    compare LIST with the trace and
                                            the map's layout with LIST
    symbol_order.py translate MAP LIST OUT  LIST in the names of the build
                                            MAP is from (bench/run's stage
                                            builds: a feature changes the
                                            hashes too)
"""

import bisect
import re
import sys

# A page or more: such an object goes after every small one, so that the
# small ones a run writes share pages (the allocation arena is 1 MiB).
LARGE = 4096

# lld's map: VMA LMA Size Align, then the name, indented by its level: an
# output section (0), an input section (8), a symbol (16).
LINE = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ (.*)$")


def read_map(path):
    """Input sections as (start, size, output section, first symbol)."""
    sections, output, current = [], None, None
    for line in open(path):
        m = LINE.match(line.rstrip("\n"))
        if not m:
            continue
        name = m.group(3)
        level = len(name) - len(name.lstrip(" "))
        name = name.strip()
        if level == 0:
            output, current = name, None
        elif level == 8:
            current = [int(m.group(1), 16), int(m.group(2), 16), output, None]
            sections.append(current)
        elif level == 16 and current is not None and current[3] is None:
            current[3] = name
    return sorted(tuple(s) for s in sections if s[1] and s[3])


def entry(sections):
    for start, _, _, name in sections:
        if name == "_start":
            return start
    sys.exit("symbol_order.py: no _start in the link map")


def touched(sections, trace):
    """Functions in first-execution order, and the .data/.bss objects in the
    order that packs what a run reads or writes into the fewest pages."""
    starts = [s[0] for s in sections]
    functions, data, seen, base = [], [], set(), None
    for line in open(trace):
        kind = line[:2].strip()
        if kind not in ("I", "S", "L", "M"):
            continue
        addr = int(line[3:].split(",")[0], 16)
        if base is None:
            if kind != "I":
                continue
            base = addr - entry(sections)  # the first instruction is _start's
        offset = addr - base
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0:
            continue
        start, size, output, name = sections[i]
        if offset >= start + size or name in seen:
            continue
        if kind == "I" and output.startswith(".text"):
            seen.add(name)
            functions.append(name)
        elif kind != "I" and output in (".data", ".bss"):
            seen.add(name)
            data.append((size >= LARGE, len(data), name))
    # .data comes just before .bss, whose first page the kernel writes
    # anyway (it zeroes the tail of the file's last page): .data's objects a
    # run leaves alone go first, the ones it uses last, next to that page,
    # and then .bss's, small ones first.
    used = {name for _, _, name in data}
    output = outputs(sections)
    idle = [s[3] for s in sections if s[2] == ".data" and s[3] not in used]
    hot_data = [name for _, _, name in sorted(data) if output[name] == ".data"]
    hot_bss = [name for _, _, name in sorted(data) if output[name] != ".data"]
    return functions, idle + hot_data + hot_bss, used


def outputs(sections):
    """Each symbol's output section."""
    return {name: output for _, _, output, name in sections}


def order(map_path, trace, out):
    sections = read_map(map_path)
    functions, data, used = touched(sections, trace)
    with open(out, "w") as f:
        f.write("".join(name + "\n" for name in functions + data))
    print(f"scripts/symbol-order: {len(functions)} functions and {len(data)} "
          f"data objects ({len(used)} of them used by a run) in {out}")


def check(map_path, trace, listed_path):
    sections = read_map(map_path)
    functions, _, used = touched(sections, trace)
    listed = [l.strip() for l in open(listed_path) if l.strip()]
    address = {name: start for start, _, _, name in sections}
    output = outputs(sections)
    problems = []
    missing = [n for n in functions + sorted(used) if n not in set(listed)]
    # A run here may take a branch or two the run that made the list did
    # not (another environment); more than that is a stale list.
    if len(missing) > 3:
        problems.append(f"{len(missing)} functions or objects a run uses are not "
                        f"in the list (the list is stale), e.g. {', '.join(missing[:5])}")
    # A .data object a run has come to use, listed among the idle ones
    # (which go first, away from the pages a run writes): stale too.
    data_listed = [n for n in listed if output.get(n) == ".data"]
    misplaced = [n for i, n in enumerate(data_listed) if n in used
                 and any(m not in used for m in data_listed[i + 1:])]
    if misplaced:
        problems.append(f".data objects a run uses are listed among the idle ones: "
                        f"{', '.join(misplaced[:5])}")
    gone = [n for n in listed if n not in address]
    if len(gone) > len(listed) // 10:
        problems.append(f"{len(gone)} of {len(listed)} listed names are not in the build")
    for kind in (".text", ".data", ".bss"):
        starts = [address[n] for n in listed if output.get(n) == kind]
        out_of_order = sum(1 for a, b in zip(starts, starts[1:]) if b < a)
        if starts and out_of_order > len(starts) // 10:
            problems.append(f"{kind}: the link did not follow the list ({out_of_order} "
                            "out of order; is .cargo/config.toml's linker link/ld.lld?)")
    text = [address[n] for n in functions if n in address]
    print(f"symbol order: {len(listed)} listed; a run uses {len(functions)} functions "
          f"(starts on {len({a >> 12 for a in text})} pages) and {len(used)} data objects; "
          f"{len(missing)} of them unlisted, {len(gone)} listed names gone")
    if problems:
        sys.exit("scripts/symbol-order --check: " + "; ".join(problems) +
                 "; run scripts/symbol-order (as root) and commit link/x86_64-musl.order")


HASH = re.compile(r"17h[0-9a-f]{16}E$")


def translate(map_path, listed_path, out):
    """A name of the list, in the build of MAP: itself, or the one name
    there that differs only in its hash. A name that has no such
    counterpart, or several (generic instances), is left out."""
    names = [s[3] for s in read_map(map_path)]
    present = set(names)
    by_stem = {}
    for name in names:
        if HASH.search(name):
            by_stem.setdefault(HASH.sub("", name), []).append(name)
    result = []
    for name in (l.strip() for l in open(listed_path) if l.strip()):
        if name in present:
            result.append(name)
        elif HASH.search(name) and len(by_stem.get(HASH.sub("", name), [])) == 1:
            result.append(by_stem[HASH.sub("", name)][0])
    with open(out, "w") as f:
        f.write("".join(name + "\n" for name in result))


if __name__ == "__main__":
    modes = {"order": order, "check": check, "translate": translate}
    if len(sys.argv) != 5 or sys.argv[1] not in modes:
        sys.exit(__doc__)
    modes[sys.argv[1]](*sys.argv[2:])
