#!/usr/bin/env python3
"""Copy a botocore service model into crates/wire/models/, without its documentation.

The botocore models are AWS's wire contract (DESIGN.md). trailwatch embeds the shapes,
operations and errors of each service it serves; documentation strings are dropped to
keep the binary small. Usage: tools/strip-model.py SERVICE VERSION OUT.json
"""
import gzip, json, sys, pathlib
import botocore

service, version, out = sys.argv[1:4]
base = pathlib.Path(botocore.__file__).parent / "data" / service / version
path = base / "service-2.json.gz"
raw = gzip.open(path).read() if path.exists() else (base / "service-2.json").read_bytes()
model = json.loads(raw)

def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in ("documentation", "documentationUrl", "examples")}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node

model = strip(model)
model["metadata"]["botocoreVersion"] = botocore.__version__
pathlib.Path(out).write_text(json.dumps(model, separators=(",", ":")))
