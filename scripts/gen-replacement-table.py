#!/usr/bin/env python3
"""Generate src/spec/replacement_table.rs: which property changes replace a resource.

For every resource type ordersctl emits (the "AWS::X::Y" literals under src/), it merges:
  1. the CloudFormation registry schemas cfn-lint ships (createOnlyProperties -> replace,
     conditionalCreateOnlyProperties -> may replace);
  2. @aws-cdk/aws-service-spec's database (per-property causesReplacement yes/maybe, which
     carries the older resource specification's UpdateType Immutable/Conditional), nested
     properties included;
  3. scripts/replacement-overrides.json, reviewed corrections that cite the reference page.
The strongest answer wins (replace > may replace), except that an override is final.

For every type in those schemas it also writes src/spec/resource_facts.tsv from the schemas
alone (one line per type: create-only paths, conditionally create-only paths, the name
property, the properties, the Fn::GetAtt attributes), so a change to any documented type gets
its impact (the merged table above is used where it has entries; a type in neither is "impact
unknown"), and src/spec/cfn.rs: one constant per property name of the types src/ refers to,
which constructs, checks, diff and the scanner use instead of string literals.
`--schemas-only` regenerates just src/spec/ (no service spec needed).

Usage (the versions used are recorded in the generated file):
  scripts/test                      # or any venv with cfn-lint installed
  npm install --prefix /tmp/spec @aws-cdk/aws-service-spec
  python3 scripts/gen-replacement-table.py \\
      --cfn-lint-python ~/.cache/ordersctl/venv/bin/python \\
      --service-spec /tmp/spec/node_modules/@aws-cdk/aws-service-spec
"""
import argparse
import gzip
import json
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
RANK = {"may-replace": 1, "replace": 2}
RUST = {"replace": "Impact::Replace", "may-replace": "Impact::MayReplace", "no-interruption": "Impact::NoInterruption"}


def emitted_types():
    types = set()
    for f in (ROOT / "src").rglob("*.rs"):
        if f.name in ("replacement_table.rs", "cfn.rs"):
            continue
        types.update(re.findall(r'"(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)"', f.read_text()))
    return sorted(types)


def cfn_lint_schemas(python):
    code = (
        "import cfnlint, json, pathlib, importlib.metadata as m;"
        "d = pathlib.Path(cfnlint.__file__).parent / 'data' / 'schemas';"
        "print(json.dumps({'dir': str(d), 'version': m.version('cfn-lint'),"
        " 'date': json.load(open(d / 'version.json'))['schema_date']}))"
    )
    info = json.loads(subprocess.check_output([python, "-c", code], text=True))
    base = pathlib.Path(info["dir"])
    index = json.loads((base / "providers" / "us-east-1.json").read_text())
    return base, index, info


def schema_path(p):
    # "/properties/A/*/B" -> "A/*/B"
    return p[len("/properties/"):] if p.startswith("/properties/") else None


def from_schemas(types, base, index):
    out = {}
    for t in types:
        if t not in index:
            continue
        s = json.loads((base / "resources" / f"{index[t]}.json").read_text())
        for key, impact in (("conditionalCreateOnlyProperties", "may-replace"), ("createOnlyProperties", "replace")):
            for p in s.get(key, []):
                path = schema_path(p)
                if path:
                    out[(t, path)] = impact
    return out


def name_property(t, create_only, base, index):
    """The property that names the physical resource: a create-only top-level string called
    `Name` or `...Name` (one, or the one spelled after the type: QueueName for a queue)."""
    schema = json.loads((base / "resources" / f"{index[t]}.json").read_text())
    props = schema.get("properties", {})
    candidates = [
        p for p in create_only
        if "/" not in p and (p == "Name" or p.endswith("Name"))
        and props.get(p, {}).get("type") == "string"
    ]
    if len(candidates) == 1:
        return candidates[0]
    own = t.rsplit("::", 1)[-1] + "Name"
    if own in candidates:
        return own
    return "Name" if "Name" in candidates else ""


def walk_names(schema):
    """Every property name of a schema: top level and every definition (nested objects)."""
    names = set(schema.get("properties", {}))
    for d in schema.get("definitions", {}).values():
        if isinstance(d, dict):
            names.update(d.get("properties", {}))
    return names


def getatt_attributes(python):
    """What Fn::GetAtt can read, per type, as cfn-lint works it out (read-only properties, or
    every property for the types of the older resource specification, plus its exceptions);
    a name ending in `.*` stands for any attribute under that prefix (`Outputs.*`)."""
    code = (
        "import json; from cfnlint.schema import PROVIDER_SCHEMA_MANAGER as m;"
        "ts = m.get_resource_types('us-east-1');"
        "print(json.dumps({t: sorted(k.replace('\\\\', '').replace('..*', '.*') for k in m.get_resource_schema('us-east-1', t).get_atts)"
        " for t in ts}))"
    )
    return json.loads(subprocess.check_output([python, "-c", code], text=True))


# Keys inside properties the schemas type only as JSON, from the resource reference pages:
# AWS::SQS::Queue RedrivePolicy and RedriveAllowPolicy
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sqs-queue.html).
JSON_KEYS = {
    "AWS::SQS::Queue": ["deadLetterTargetArn", "maxReceiveCount", "redrivePermission", "sourceQueueArns"],
}


def write_facts(emitted, base, index, lint, atts):
    """src/spec/resource_facts.tsv: every type of the schemas, with its facts; and
    src/spec/cfn.rs: one constant per property name of the types src/ refers to."""
    others = sorted(index)
    table = from_schemas(others, base, index)
    by_type = {}
    for (t, p), i in table.items():
        by_type.setdefault(t, {"replace": [], "may-replace": []})[i].append(p)
    source = f"cfn-lint {lint['version']} registry schemas (schema date {lint['date']})"
    lines = [
        f"# @generated by scripts/gen-replacement-table.py from {source}; do not edit by hand.",
        "# type<TAB>create-only property paths (replace)<TAB>conditionally create-only paths (may replace)"
        "<TAB>name property<TAB>properties<TAB>attributes (Fn::GetAtt); paths use / and * for list elements",
    ]
    names = {}
    for t in others:
        schema = json.loads((base / "resources" / f"{index[t]}.json").read_text())
        rows = by_type.get(t, {"replace": [], "may-replace": []})
        rep, may = sorted(rows["replace"]), sorted(rows["may-replace"])
        props = sorted(schema.get("properties", {}))
        lines.append("\t".join([t, ",".join(rep), ",".join(may), name_property(t, rep, base, index),
                                ",".join(props), ",".join(atts.get(t, []))]))
        if t in emitted:
            for n in walk_names(schema) | set(JSON_KEYS.get(t, [])):
                names.setdefault(n, set()).add(t)
    (ROOT / "src" / "spec" / "resource_facts.tsv").write_text("\n".join(lines) + "\n")
    print(f"{len(others)} resource types in resource_facts.tsv")

    keywords = {"type", "match", "ref", "self", "crate", "mod", "use", "as", "in", "fn", "loop", "move"}
    idents = sorted(n for n in names if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", n) and n not in keywords)
    rust = [
        f"// @generated by scripts/gen-replacement-table.py from {source}; do not edit by hand.",
        f"// Every property name (top level and nested) of the {len([t for t in emitted if t in index])} resource types src/ refers to:",
        "// one constant each (`cfn::VisibilityTimeout == \"VisibilityTimeout\"`) and `ALL`.",
        "",
        "property_names! {",
    ]
    line = "   "
    for n in idents:
        if len(line) + len(n) + 1 > 96:
            rust.append(line)
            line = "   "
        line += " " + n
    rust += [line, "}"]
    (ROOT / "src" / "spec" / "cfn.rs").write_text("\n".join(rust) + "\n")
    print(f"{len(idents)} property names in cfn.rs")


def from_service_spec(types, spec_dir):
    db = json.load(gzip.open(spec_dir / "db.json.gz"))
    typedefs = {d["$id"]: d for d in db["schema"]["typeDefinition"]["entities"]}
    out = {}

    def walk(t, props, prefix, seen):
        for name, p in props.items():
            path = prefix + name
            cr = p.get("causesReplacement")
            if cr in ("yes", "maybe"):
                out[(t, path)] = "replace" if cr == "yes" else "may-replace"
            for ref, many in refs(p["type"]):
                if ref in seen or ref not in typedefs:
                    continue
                walk(t, typedefs[ref].get("properties", {}), path + ("/*/" if many else "/"), seen | {ref})

    for r in db["schema"]["resource"]["entities"]:
        if r.get("cloudFormationType") in types:
            walk(r["cloudFormationType"], r.get("properties", {}), "", frozenset())
    return out


def refs(ty, many=False):
    kind = ty.get("type")
    if kind == "ref":
        yield ty["reference"]["$ref"], many
    elif kind in ("array", "map"):
        yield from refs(ty["element"], True)
    elif kind == "union":
        for u in ty["types"]:
            yield from refs(u, many)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cfn-lint-python", required=True, help="a python with cfn-lint installed")
    ap.add_argument("--service-spec", type=pathlib.Path, help="the @aws-cdk/aws-service-spec package directory")
    ap.add_argument("--schemas-only", action="store_true", help="only write src/spec/ (resource_facts.tsv, cfn.rs)")
    args = ap.parse_args()

    types = emitted_types()
    base, index, lint = cfn_lint_schemas(args.cfn_lint_python)
    write_facts(set(types), base, index, lint, getatt_attributes(args.cfn_lint_python))
    if args.schemas_only:
        return
    if args.service_spec is None:
        ap.error("--service-spec is required unless --schemas-only")
    spec_version = json.loads((args.service_spec / "package.json").read_text())["version"]
    table = {}
    for source in (from_schemas(types, base, index), from_service_spec(types, args.service_spec)):
        for k, impact in source.items():
            if RANK[impact] > RANK.get(table.get(k), 0):
                table[k] = impact
    overrides = json.loads((ROOT / "scripts" / "replacement-overrides.json").read_text())["overrides"]
    for o in overrides:
        table[(o["type"], o["path"])] = o["impact"]

    lines = [
        "// @generated by scripts/gen-replacement-table.py; do not edit by hand.",
        f"// Sources: cfn-lint {lint['version']} registry schemas (schema date {lint['date']}),",
        f"// @aws-cdk/aws-service-spec {spec_version}, scripts/replacement-overrides.json ({len(overrides)} entries).",
        f"// Resource types: the {len(types)} that src/ emits.",
        "",
        "use super::Impact;",
        "",
        "/// (resource type, property path with `/` and `*` for list elements, impact), sorted.",
        "pub(crate) static TABLE: &[(&str, &str, Impact)] = &[",
    ]
    for (t, path), impact in sorted(table.items()):
        lines.append(f'    ("{t}", "{path}", {RUST[impact]}),')
    lines.append("];")
    (ROOT / "src" / "spec" / "replacement_table.rs").write_text("\n".join(lines) + "\n")
    print(f"{len(table)} entries for {len(types)} resource types")


if __name__ == "__main__":
    main()
