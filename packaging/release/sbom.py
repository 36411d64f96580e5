#!/usr/bin/env python3
"""Make cargo-cyclonedx's SBOM depend on the commit alone, and say which
crates are in the binary.

    sbom.py SBOM SOURCE_DIR VERSION COMMIT EPOCH RUNTIME_CRATES

cargo-cyclonedx writes a random serialNumber, the time of the run, and the
build directory in every path bom-ref; two runs of one commit differ. Here:
the serial number is derived from the version and the commit (UUID v5), the
timestamp is the commit's (SOURCE_DATE_EPOCH), the directory becomes
/build/runas (as the binaries' own paths are remapped). It also marks every
crate that is not linked into the program (proc macros and what they use:
build-time only) with scope "excluded": RUNTIME_CRATES is a file of
"name vVERSION" lines, `cargo tree -e normal,no-proc-macro`'s list.
"""
import datetime
import json
import sys
import uuid

path, source, version, commit, epoch, runtime_file = sys.argv[1:7]
runtime = set()
with open(runtime_file) as f:
    for line in f:
        words = line.split()
        if len(words) >= 2 and words[1].startswith("v"):
            runtime.add((words[0], words[1][1:]))

with open(path) as f:
    text = f.read()
text = text.replace("file://" + source.rstrip("/"), "file:///build/runas")
bom = json.loads(text)
bom["serialNumber"] = "urn:uuid:%s" % uuid.uuid5(
    uuid.NAMESPACE_URL, "runas-launcher@%s+%s" % (version, commit)
)
stamp = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
bom["metadata"]["timestamp"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
for component in bom.get("components", []):
    linked = (component.get("name"), component.get("version")) in runtime
    component["scope"] = "required" if linked else "excluded"
with open(path, "w") as f:
    json.dump(bom, f, indent=2, sort_keys=True)
    f.write("\n")
