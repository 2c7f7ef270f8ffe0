#!/usr/bin/env bash
# Prints the field list of extension/include/pgsession/fields.hpp as JSON, or with the
# argument "devices" its device metadata list (see fields.cpp): the compiler reads the header itself, so test/sql/fields.sql checks the
# installed catalog against the list the library was built from, not a copy of it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
"${CXX:-c++}" -std=c++17 -I"$here/../../../extension/include" -o "$build/fields" "$here/fields.cpp"
"$build/fields" "$@"
