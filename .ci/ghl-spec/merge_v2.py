"""Merges GHL's v2 OpenAPI families into one document, so one Prism mock serves them all.

Paths and security schemes are merged as they are. A schema name two families define with
different bodies keeps its name in the first family (in the order below) and is prefixed
with the family elsewhere (`calendars_GetNoteSchema`), that family's references rewritten.
Usage: merge_v2.py <apps dir>  (writes the merged JSON to stdout)
"""
import json, sys, os
apps = sys.argv[1]
families = ["contacts", "calendars", "locations", "workflows", "campaigns", "oauth"]
docs = {f: json.load(open(os.path.join(apps, f + ".json"))) for f in families}
owners = {}
for f, d in docs.items():
    for name, body in d["components"]["schemas"].items():
        owners.setdefault(name, []).append((f, body))
clash = {n for n, o in owners.items() if len({json.dumps(b, sort_keys=True) for _, b in o}) > 1}
first = {n: o[0][0] for n, o in owners.items()}
def named(n, fam):
    return fam + "_" + n if n in clash and first[n] != fam else n
def rewrite(node, fam):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
                n = v[len("#/components/schemas/"):]
                out[k] = "#/components/schemas/" + named(n, fam)
            else:
                out[k] = rewrite(v, fam)
        return out
    if isinstance(node, list):
        return [rewrite(x, fam) for x in node]
    return node
merged = {"openapi": docs["contacts"]["openapi"],
          "info": {"title": "GHL API v2 (merged: " + ", ".join(families) + ")", "version": "merged"},
          "servers": docs["contacts"]["servers"], "paths": {},
          "components": {"securitySchemes": {}, "schemas": {}}}
for f, d in docs.items():
    for p, item in d["paths"].items():
        merged["paths"][p] = rewrite(item, f)
    merged["components"]["securitySchemes"].update(d["components"]["securitySchemes"])
    for n, body in d["components"]["schemas"].items():
        merged["components"]["schemas"][named(n, f)] = rewrite(body, f)
json.dump(merged, sys.stdout, indent=2)
