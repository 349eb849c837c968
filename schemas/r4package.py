"""Reading the official FHIR R4 package (npm `hl7.fhir.r4.examples@4.0.1`, CC0): fetching it
with `npm pack`, loading its bundles, and writing a derived file compactly and
deterministically. Shared by generate.py and generate_search.py."""

from __future__ import annotations

import json
import pathlib
import subprocess
import tarfile

PACKAGE = "hl7.fhir.r4.examples@4.0.1"


def load_bundle(package: pathlib.Path, name: str) -> list[dict]:
    with open(package / name, encoding="utf-8") as f:
        bundle = json.load(f)
    return [entry["resource"] for entry in bundle.get("entry", [])]


def fetch_package(into: pathlib.Path) -> pathlib.Path:
    """Fetch the official package with `npm pack` and unpack it; return its package dir."""
    done = subprocess.run(["npm", "pack", "--silent", PACKAGE], cwd=into, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"npm pack {PACKAGE} failed: {done.stderr.strip()}")
    tarballs = sorted(into.glob("*.tgz"))
    if len(tarballs) != 1:
        raise SystemExit(f"expected one tarball from npm pack, found {len(tarballs)}")
    with tarfile.open(tarballs[0]) as tar:
        tar.extractall(into, filter="data")
    return into / "package"


def write_compact(data: dict, output: str) -> str:
    """Writes `data` as sorted, compact JSON (plus a newline) to `output`; returns the text."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")
    return text
