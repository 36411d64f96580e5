#!/usr/bin/env python3
"""The static build's function order, for link/ld.lld.

    order.py HOT-LIST OUTPUT LINKER-ARGS...

HOT-LIST (link/hot-functions.txt) names the functions a default run
executes, in the order it first reaches them, as paths a person reads:
demangled, without the hash a build gives each symbol (`runas::cli::parse`,
`std::env::var`, `__libc_start_main`). A line ending in `*` names every
function whose path starts with what comes before it. This script finds,
in the linker's input objects (nm), the symbol each line names in this very
build and writes them, in that order, to OUTPUT for lld's
--symbol-ordering-file. A line that names nothing (the code changed) is
passed over: the build is only laid out less well, never wrong.

Needs nm and c++filt (binutils); without them it writes nothing, and the
build links in lld's default order.
"""
import os
import re
import shutil
import subprocess
import sys


def demangled(names):
    """Each mangled name's path, without hashes."""
    out = subprocess.run(
        ["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True
    ).stdout.splitlines()
    paths = []
    for path in out:
        path = re.sub(r"::h[0-9a-f]{16}$", "", path)  # legacy mangling's hash
        path = re.sub(r"\[[0-9a-f]+\]", "", path)  # v0's crate disambiguators
        paths.append(path)
    return paths


def main():
    hot, output, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    open(output, "w").close()
    if not (shutil.which("nm") and shutil.which("c++filt")):
        return
    inputs = [a for a in args if re.search(r"\.(o|a|rlib)$", a) and not a.startswith("-")]
    # The C library and friends come as -lNAME, searched in the -L
    # directories.
    dirs = [a[2:] for a in args if a.startswith("-L") and len(a) > 2]
    dirs += [b for a, b in zip(args, args[1:]) if a == "-L"]
    for a in args:
        if a.startswith("-l") and len(a) > 2:
            for d in dirs:
                candidate = f"{d}/lib{a[2:]}.a"
                if os.path.exists(candidate):
                    inputs.append(candidate)
                    break
    listed = subprocess.run(
        ["nm", "--defined-only", "--format=posix", *inputs],
        capture_output=True, text=True,
    ).stdout.splitlines()
    names = sorted({line.split()[0] for line in listed
                    if len(line.split()) >= 2 and line.split()[1] in "tTwW"})
    by_path = {}
    for name, path in zip(names, demangled(names)):
        by_path.setdefault(path, []).append(name)
    order, seen = [], set()
    for line in open(hot):
        # A comment is a whole line: `#` is part of a closure's path
        # (`runas::run::{closure#0}`).
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("*"):
            found = [n for p, ns in sorted(by_path.items()) if p.startswith(line[:-1]) for n in ns]
        else:
            found = by_path.get(line, [])
        for name in found:
            if name not in seen:
                seen.add(name)
                order.append(name)
    with open(output, "w") as f:
        f.write("".join(name + "\n" for name in order))


main()
