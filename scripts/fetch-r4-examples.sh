#!/usr/bin/env bash
# Fetches the official FHIR R4 examples package (npm hl7.fhir.r4.examples@4.0.1, CC0) into
# target/r4-examples/package, once. The example tests (tests/suite/examples.rs,
# search_examples.rs) and schemas/generate.py read it.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="target/r4-examples"
if [ -f "$dest/package/package.json" ]; then
    exit 0
fi
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent hl7.fhir.r4.examples@4.0.1 >/dev/null)
tar -xzf "$work"/hl7.fhir.r4.examples-4.0.1.tgz -C "$dest"
echo "R4 examples in $dest/package"
