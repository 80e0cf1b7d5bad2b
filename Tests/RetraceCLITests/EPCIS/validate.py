#!/usr/bin/env python3
"""Validates JSON documents against a JSON Schema (draft-07), checking `format: uri` and `date-time`.

Usage: validate.py SCHEMA FILE...   Prints one line per file, "ok FILE" or "invalid FILE: reason";
exit 0 when all are valid, 1 when one is not, 3 when the validator itself is missing.

jsonschema checks a `format` only when a checker is registered for it; its "uri" checker needs the
optional rfc3987 package, without which every string passes as a URI (and an invalid bizStep with
it). So "uri" is checked here against RFC 3986's absolute-URI syntax: a scheme, a colon, and no
character that may not appear in a URI.
"""
import json
import re
import sys

try:
    import jsonschema
except ImportError:
    print("missing: python3 module jsonschema (pip install jsonschema)")
    sys.exit(3)

URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")

checker = jsonschema.FormatChecker()


@checker.checks("uri")
def is_uri(value):
    if not isinstance(value, str):
        return True
    return bool(URI.match(value)) and not PCT.search(value)


DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@checker.checks("date-time")
def is_date_time(value):
    if not isinstance(value, str):
        return True
    return bool(DATE_TIME.match(value))


def main():
    schema = json.load(open(sys.argv[1], encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=checker)
    failed = False
    for path in sys.argv[2:]:
        document = json.load(open(path, encoding="utf-8"))
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        if errors:
            failed = True
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path)
            print(f"invalid {path}: {len(errors)} error(s); first at /{where}: {first.message[:300]}")
        else:
            print(f"ok {path}")
    sys.exit(1 if failed else 0)


main()
