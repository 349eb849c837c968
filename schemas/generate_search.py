#!/usr/bin/env python3
"""Generate schemas/r4-search-parameters.json from the official FHIR R4 search parameters.

Job: read the SearchParameter resources of `Bundle-searchParams.json` in the official
package `hl7.fhir.r4.examples@4.0.1` and write the compact, deterministic registry file
that Carnet's search module (src/search/registry.rs) embeds: for every parameter its code,
type, base resource types with one FHIRPath expression per base type, targets, modifiers,
comparators, multipleOr/multipleAnd and resolved components.
Depends on: Python 3.11 standard library only (and `npm` when no package dir is given).

Usage:
    python3 schemas/generate_search.py [PACKAGE_DIR] [-o OUTPUT]

PACKAGE_DIR is the unpacked `package/` directory of hl7.fhir.r4.examples@4.0.1. When it
is omitted the package is fetched with `npm pack` into a temporary directory.
OUTPUT defaults to r4-search-parameters.json next to this script.
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import sys
import tempfile

from r4package import PACKAGE, fetch_package, load_bundle, write_compact

BUNDLE = "Bundle-searchParams.json"
# Known errata of the 4.0.1 definitions, fixed here so the registry means what the
# parameter says. Each entry: (parameter id, component definition) -> (expression in
# 4.0.1, corrected expression). The script fails if the package no longer has the
# erratum, so a fix upstream is noticed.
#
# DocumentReference-relationship pairs `relatesto` (a reference) with `code` and
# `relation` (a token) with `target`; the components are swapped in R4B and R5.
SP = "http://hl7.org/fhir/SearchParameter/"
COMPONENT_ERRATA = {
    ("DocumentReference-relationship", SP + "DocumentReference-relatesto"): ("code", "target"),
    ("DocumentReference-relationship", SP + "DocumentReference-relation"): ("target", "code"),
}


def split_union(expression: str) -> list[str]:
    """The top-level terms of a FHIRPath union `a | b | (c as X)`, outside parentheses,
    brackets and string literals."""
    terms: list[str] = []
    depth = 0
    quote: str | None = None
    start = 0
    i = 0
    while i < len(expression):
        c = expression[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'`":
            quote = c
        elif c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "|" and depth == 0:
            terms.append(expression[start:i].strip())
            start = i + 1
        i += 1
    if quote or depth != 0:
        raise SystemExit(f"unbalanced expression: {expression}")
    terms.append(expression[start:].strip())
    return terms


def root_type(term: str) -> str:
    """The type name a union term starts from: `(Observation.value as X)` -> Observation."""
    t = term.lstrip("( ")
    end = 0
    while end < len(t) and (t[end].isalnum() or t[end] == "_"):
        end += 1
    return t[:end]


def per_base_expressions(sp: dict) -> dict[str, str]:
    """One expression per base type. An expression shared by several types joins one
    term per type with `|`; each type keeps its own terms, in their order."""
    expression = sp.get("expression")
    if expression is None:
        return {}
    bases = sp["base"]
    if len(bases) == 1:
        return {bases[0]: expression}
    terms: dict[str, list[str]] = collections.defaultdict(list)
    for term in split_union(expression):
        root = root_type(term)
        if root not in bases:
            raise SystemExit(f"{sp['id']}: term `{term}` starts from {root}, not a base")
        terms[root].append(term)
    missing = [b for b in bases if b not in terms]
    if missing:
        raise SystemExit(f"{sp['id']}: no expression for base {', '.join(missing)}")
    return {b: " | ".join(terms[b]) for b in bases}


def components(sp: dict, by_url: dict[str, dict]) -> list[dict]:
    out = []
    for c in sp.get("component", []):
        definition = c["definition"]
        target = by_url.get(definition)
        if target is None:
            raise SystemExit(f"{sp['id']}: component {definition} is not in the bundle")
        expression = c["expression"]
        erratum = COMPONENT_ERRATA.get((sp["id"], definition))
        if erratum is not None:
            if expression != erratum[0]:
                raise SystemExit(f"{sp['id']}: erratum on {definition} no longer applies")
            expression = erratum[1]
        out.append(
            {
                "definition": definition,
                "code": target["code"],
                "type": target["type"],
                "expression": expression,
            }
        )
    return out


def generate(package: pathlib.Path) -> dict:
    params = [r for r in load_bundle(package, BUNDLE) if r["resourceType"] == "SearchParameter"]
    by_url = {sp["url"]: sp for sp in params}
    if len(by_url) != len(params):
        raise SystemExit("duplicate SearchParameter urls")
    used_errata = set()
    seen: set[tuple[str, str]] = set()
    out = []
    for sp in params:
        for b in sp["base"]:
            if (b, sp["code"]) in seen:
                raise SystemExit(f"{sp['id']}: a second parameter `{sp['code']}` on {b}")
            seen.add((b, sp["code"]))
        entry: dict = {
            "id": sp["id"],
            "url": sp["url"],
            "code": sp["code"],
            "type": sp["type"],
            "base": sorted(sp["base"]),
            "expression": per_base_expressions(sp),
        }
        for key in ("target", "modifier", "comparator"):
            if sp.get(key):
                entry[key] = sorted(sp[key]) if key == "target" else list(sp[key])
        for key in ("multipleOr", "multipleAnd"):
            if key in sp:
                entry[key] = sp[key]
        if sp.get("component"):
            entry["component"] = components(sp, by_url)
            used_errata.update(k for k in COMPONENT_ERRATA if k[0] == sp["id"])
        out.append(entry)
    if used_errata != set(COMPONENT_ERRATA):
        raise SystemExit(f"errata not found: {sorted(set(COMPONENT_ERRATA) - used_errata)}")
    out.sort(key=lambda e: (e["code"], e["id"]))
    return {
        "fhirVersion": "4.0.1",
        "source": PACKAGE,
        "parameters": out,
        "patientCompartment": patient_compartment(package),
    }


def patient_compartment(package: pathlib.Path) -> dict[str, list[str]]:
    """For each resource type in the Patient compartment, the parameters that link it to
    its patient(s), from CompartmentDefinition-patient.json."""
    with open(package / "CompartmentDefinition-patient.json", encoding="utf-8") as f:
        definition = json.load(f)
    return {r["code"]: sorted(r["param"]) for r in definition["resource"] if r.get("param")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", help="unpacked package/ directory")
    parser.add_argument(
        "-o",
        "--output",
        default=str(pathlib.Path(__file__).resolve().parent / "r4-search-parameters.json"),
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        package = pathlib.Path(args.package) if args.package else fetch_package(pathlib.Path(tmp))
        registry = generate(package)
    text = write_compact(registry, args.output)
    params = registry["parameters"]
    by_type = collections.Counter(p["type"] for p in params)
    pairs = sum(len(p["base"]) for p in params)
    print(
        f"{len(params)} parameters ({pairs} per base type), "
        + ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))
        + f", {len(text)} bytes -> {args.output}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
