"""The JSON schema of a configuration file, generated from the option list.

    python -m skewcheck.config.schema > skewcheck/config/config.schema.json

The committed file is what editors and CI lint against (a test checks that it is current). It
describes the options table (``[tool.skewcheck]``, or the top level of ``skewcheck.toml``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from skewcheck.config.options import OPTIONS, PROFILES, Option


def _type(option: Option) -> dict[str, Any]:
    limits = {k: v for k, v in (("minimum", option.minimum), ("maximum", option.maximum)) if v is not None}
    if option.type == "strings":
        item = {"type": "string", "minLength": 1}
        return {"anyOf": [item, {"type": "array", "items": item}]}
    if option.type == "integer-or-string":
        return {"anyOf": [{"type": "integer", **limits}, {"type": "string", "minLength": 1}]}
    if option.type == "number-or-string":
        return {"anyOf": [{"type": "number", **limits}, {"type": "string", "minLength": 1}]}
    if option.type in ("integer", "number"):
        return {"type": option.type, **limits}
    if option.type == "boolean":
        return {"type": "boolean"}
    if option.choices:
        return {"type": "string", "enum": list(option.choices)}
    return {"type": "string", "minLength": 1}


def _properties() -> dict[str, Any]:
    props: dict[str, Any] = {}
    for option in OPTIONS:
        spec = {"description": f"{option.flag}: {option.help}", **_type(option)}
        props[option.key] = spec
        kebab = option.key.replace("_", "-")
        if kebab != option.key:
            props[kebab] = {"$ref": f"#/$defs/options/properties/{option.key}"}
    return props


def config_schema() -> dict[str, Any]:
    options = {"type": "object", "additionalProperties": False, "properties": _properties()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "skewcheck configuration ([tool.skewcheck] in pyproject.toml, or skewcheck.toml)",
        "description": "Every option of `skewcheck compare`, by its flag's name (snake or kebab case); "
        "relative paths are read against the file's folder; flags given on the command line override.",
        "$defs": {"options": options},
        "type": "object",
        "additionalProperties": False,
        "properties": {
            **_properties(),
            PROFILES: {
                "description": "named profiles, selected by --profile NAME: their options override the top level's",
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/options"},
            },
        },
    }


def render() -> str:
    return json.dumps(config_schema(), indent=2) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
