#!/usr/bin/env python3
"""Generate schemas/r4-structure.json from the official FHIR R4 definitions.

Job: read the StructureDefinitions (snapshots), ValueSets and CodeSystems of the
official package `hl7.fhir.r4.examples@4.0.1` and write the compact, deterministic
structure file that Carnet's strict validator (src/fhir/validate/) embeds.
Depends on: Python 3.11 standard library only (and `npm` when no package dir is given).

Usage:
    python3 schemas/generate.py [PACKAGE_DIR] [-o OUTPUT]

PACKAGE_DIR is the unpacked `package/` directory of hl7.fhir.r4.examples@4.0.1. When it
is omitted the package is fetched with `npm pack` into a temporary directory.
OUTPUT defaults to r4-structure.json next to this script.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile

from r4package import PACKAGE, fetch_package, load_bundle, write_compact

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
SD_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
FHIRPATH_TYPES = {
    "http://hl7.org/fhirpath/System.String": "string",
    "http://hl7.org/fhirpath/System.Boolean": "boolean",
    "http://hl7.org/fhirpath/System.Integer": "integer",
    "http://hl7.org/fhirpath/System.Decimal": "decimal",
    "http://hl7.org/fhirpath/System.Date": "date",
    "http://hl7.org/fhirpath/System.DateTime": "dateTime",
    "http://hl7.org/fhirpath/System.Time": "time",
}


class Unexpandable(Exception):
    """A value set that cannot be expanded from the definitions in the package."""


def type_code(t: dict) -> str:
    """The FHIR type name of an ElementDefinition.type entry."""
    for ext in t.get("extension", []):
        if ext.get("url") == FHIR_TYPE_EXT:
            return ext["valueUrl"]
    code = t["code"]
    return FHIRPATH_TYPES.get(code, code)


def primitive_regex(sd: dict) -> str | None:
    """The spec regex of a primitive type, from the `regex` extension on `<type>.value`."""
    for el in sd["snapshot"]["element"]:
        if el["path"] == sd["type"] + ".value":
            for t in el.get("type", []):
                for ext in t.get("extension", []):
                    if ext.get("url") == REGEX_EXT:
                        return ext["valueString"]
    return None


def structure_elements(sd: dict, complex_names: set[str]) -> dict[str, dict]:
    """The elements of a type or resource, keyed by path relative to the type."""
    root = sd["type"]
    snapshot = sd["snapshot"]["element"]
    paths = [el["path"] for el in snapshot]
    out: dict[str, dict] = {}
    for el in snapshot:
        path = el["path"]
        if path == root:
            continue
        if not path.startswith(root + "."):
            raise SystemExit(f"{sd['url']}: element {path} outside {root}")
        rel = path[len(root) + 1 :]
        entry: dict = {"min": el["min"], "max": el["max"]}
        if "contentReference" in el:
            ref = el["contentReference"]
            if not ref.startswith("#" + root + "."):
                raise SystemExit(f"{path}: unsupported contentReference {ref}")
            target = ref[len(root) + 2 :]
            if target not in out or not out[target].get("backbone"):
                raise SystemExit(f"{path}: contentReference {ref} is not a known backbone")
            entry["ref"] = target
        else:
            types = []
            for t in el.get("type", []):
                name = type_code(t)
                profiles = t.get("profile", [])
                # A profiled datatype (SimpleQuantity) is validated against its profile.
                for p in profiles:
                    if p.startswith(SD_PREFIX) and p[len(SD_PREFIX) :] in complex_names:
                        name = p[len(SD_PREFIX) :]
                types.append(name)
            if rel == "id" and sd["kind"] == "resource":
                # R4 4.0.1 types Resource.id as System.String (fhir-type `string`) in the
                # snapshots, while the specification (resource.html#id) defines it as `id`.
                types = ["id"]
            if not types:
                raise SystemExit(f"{path}: element without type")
            entry["types"] = types
            if any(p.startswith(path + ".") for p in paths):
                entry["backbone"] = True
        if el.get("isSummary"):
            entry["summary"] = True
        binding = el.get("binding")
        if binding and binding.get("strength") == "required" and "valueSet" in binding:
            entry["binding"] = binding["valueSet"].split("|")[0]
        out[rel] = entry
    return out


def concept_codes(concepts: list[dict], acc: set[str]) -> None:
    for c in concepts:
        acc.add(c["code"])
        concept_codes(c.get("concept", []), acc)


def find_concept(concepts: list[dict], code: str) -> dict | None:
    for c in concepts:
        if c["code"] == code:
            return c
        found = find_concept(c.get("concept", []), code)
        if found is not None:
            return found
    return None


class Expander:
    def __init__(self, value_sets: dict[str, dict], code_systems: dict[str, dict]):
        self.value_sets = value_sets
        self.code_systems = code_systems
        self.cache: dict[str, dict[str, set[str]]] = {}

    def local_system(self, system: str) -> dict:
        cs = self.code_systems.get(system)
        if cs is None:
            raise Unexpandable(f"code system {system} is not in the package")
        if cs.get("content") != "complete":
            raise Unexpandable(f"code system {system} content is {cs.get('content')}")
        return cs

    def system_part(self, inc: dict) -> dict[str, set[str]]:
        system = inc["system"]
        if "concept" in inc:
            return {system: {c["code"] for c in inc["concept"]}}
        cs = self.local_system(system)
        codes: set[str] = set()
        if "filter" in inc:
            parts = []
            for flt in inc["filter"]:
                if flt.get("property") != "concept" or flt.get("op") not in ("is-a", "descendent-of"):
                    raise Unexpandable(f"filter {flt.get('property')} {flt.get('op')} on {system}")
                concept = find_concept(cs.get("concept", []), flt["value"])
                if concept is None:
                    raise Unexpandable(f"filter value {flt['value']} not in {system}")
                sub: set[str] = set()
                concept_codes(concept.get("concept", []), sub)
                if flt["op"] == "is-a":
                    sub.add(concept["code"])
                parts.append(sub)
            codes = set.intersection(*parts)
        else:
            concept_codes(cs.get("concept", []), codes)
        return {system: codes}

    def component(self, inc: dict, stack: tuple[str, ...]) -> dict[str, set[str]]:
        sets = [self.expand(url.split("|")[0], stack) for url in inc.get("valueSet", [])]
        if "system" in inc:
            sets.append(self.system_part(inc))
        if not sets:
            raise Unexpandable("include without system or valueSet")
        result = sets[0]
        for other in sets[1:]:
            result = {
                s: result[s] & other[s] for s in result.keys() & other.keys() if result[s] & other[s]
            }
        return result

    def expand(self, url: str, stack: tuple[str, ...] = ()) -> dict[str, set[str]]:
        if url in self.cache:
            return self.cache[url]
        if url in stack:
            raise Unexpandable(f"value set {url} includes itself")
        vs = self.value_sets.get(url)
        if vs is None:
            raise Unexpandable(f"value set {url} is not in the package")
        compose = vs.get("compose")
        if not compose or not compose.get("include"):
            raise Unexpandable(f"value set {url} has no compose")
        result: dict[str, set[str]] = {}
        for inc in compose["include"]:
            for system, codes in self.component(inc, stack + (url,)).items():
                result.setdefault(system, set()).update(codes)
        for exc in compose.get("exclude", []):
            for system, codes in self.component(exc, stack + (url,)).items():
                if system in result:
                    result[system] -= codes
        self.cache[url] = result
        return result


def generate(package: pathlib.Path) -> dict:
    resources = load_bundle(package, "Bundle-resources.json")
    types = load_bundle(package, "Bundle-types.json")
    # The FHIR value sets and code systems first; the HL7 v3 and v2 ones fill in what
    # they lack (Composition.confidentiality is bound to a v3 value set).
    terminology = [
        r
        for name in ("Bundle-valuesets.json", "Bundle-v3-valuesets.json", "Bundle-v2-valuesets.json")
        for r in load_bundle(package, name)
    ]

    sds = [r for r in resources + types if r["resourceType"] == "StructureDefinition"]
    primitives: dict[str, dict] = {}
    complex_sds: list[dict] = []
    resource_sds: list[dict] = []
    for sd in sds:
        if sd.get("abstract"):
            continue
        if sd["kind"] == "primitive-type":
            entry: dict = {}
            regex = primitive_regex(sd)
            if regex is not None:
                entry["regex"] = regex
            primitives[sd["name"]] = entry
        elif sd["kind"] == "complex-type":
            complex_sds.append(sd)
        elif sd["kind"] == "resource":
            resource_sds.append(sd)

    complex_names = {sd["name"] for sd in complex_sds}
    out_types: dict[str, dict] = {}
    for sd in complex_sds:
        entry = {"kind": "complex", "elements": structure_elements(sd, complex_names)}
        if sd.get("derivation") == "constraint":
            entry["base"] = sd["type"]
        out_types[sd["name"]] = entry
    for sd in resource_sds:
        out_types[sd["name"]] = {
            "kind": "resource",
            "elements": structure_elements(sd, complex_names),
        }

    known = set(primitives) | set(out_types) | {"Resource"}
    bindings: set[str] = set()
    for name, t in out_types.items():
        for rel, el in t["elements"].items():
            for ty in el.get("types", []):
                if ty not in known and not (ty in ("BackboneElement", "Element") and el.get("backbone")):
                    raise SystemExit(f"{name}.{rel}: unknown type {ty}")
            if "binding" in el:
                bindings.add(el["binding"])

    value_sets: dict[str, dict] = {}
    code_systems: dict[str, dict] = {}
    for r in terminology:
        if r["resourceType"] == "ValueSet":
            value_sets.setdefault(r["url"], r)
        elif r["resourceType"] == "CodeSystem":
            code_systems.setdefault(r["url"], r)
    expander = Expander(value_sets, code_systems)
    expanded: dict[str, dict[str, list[str]]] = {}
    unchecked: dict[str, str] = {}
    for url in sorted(bindings):
        try:
            codes = expander.expand(url)
        except Unexpandable as e:
            unchecked[url] = str(e)
            continue
        if not any(codes.values()):
            unchecked[url] = "the expansion is empty"
            continue
        expanded[url] = {s: sorted(c) for s, c in codes.items() if c}

    resource_types = sorted(sd["name"] for sd in resource_sds)
    return {
        "fhirVersion": "4.0.1",
        "source": PACKAGE,
        "resourceTypes": resource_types,
        "primitives": primitives,
        "types": out_types,
        "valueSets": expanded,
        "uncheckedValueSets": unchecked,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", help="unpacked package/ directory")
    parser.add_argument(
        "-o",
        "--output",
        default=str(pathlib.Path(__file__).resolve().parent / "r4-structure.json"),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        package = pathlib.Path(args.package) if args.package else fetch_package(pathlib.Path(tmp))
        schema = generate(package)
    text = write_compact(schema, args.output)
    print(
        f"{len(schema['resourceTypes'])} resource types, {len(schema['types'])} types, "
        f"{len(schema['primitives'])} primitives, {len(schema['valueSets'])} value sets expanded, "
        f"{len(schema['uncheckedValueSets'])} unchecked, {len(text)} bytes -> {args.output}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
