"""Preset sources: one YAML file per preset, read with line numbers and checked against the
JSON Schema (schema.json, a copy of presets/schema.json) by a small validator of the subset
the schema uses. Every problem is (line, message), reported as `file:line: message`."""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

SCHEMA_PATH = Path(__file__).with_name("schema.json")
MAX_SOURCE_BYTES = 64 * 1024
SUFFIXES = (".yaml", ".yml")


@dataclass
class Problem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class PresetSource:
    file: Path
    data: Dict[str, Any]
    lines: Dict[Tuple, int] = field(default_factory=dict)    # path -> line of its value
    key_lines: Dict[Tuple, int] = field(default_factory=dict)   # path -> line of its key

    def line(self, *path) -> int:
        return self.key_lines.get(tuple(path)) or self.lines.get(tuple(path)) or 1

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def stem(self) -> str:
        return self.file.stem


def load_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


class _Bad(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _to_python(node, path, lines, key_lines, seen):
    if id(node) in seen:
        raise _Bad(node.start_mark.line + 1, "YAML anchors and aliases are not allowed")
    seen.add(id(node))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise _Bad(k.start_mark.line + 1, "mapping keys must be plain strings")
            if k.tag == "tag:yaml.org,2002:merge":
                raise _Bad(k.start_mark.line + 1, "YAML merge keys (<<) are not allowed")
            key = k.value
            if key in out:
                raise _Bad(k.start_mark.line + 1, f"duplicate key {key!r}")
            key_lines[path + (key,)] = k.start_mark.line + 1
            out[key] = _to_python(v, path + (key,), lines, key_lines, seen)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(v, path + (i,), lines, key_lines, seen) for i, v in enumerate(node.value)]
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except yaml.YAMLError as e:
        raise _Bad(node.start_mark.line + 1, f"cannot read value: {getattr(e, 'problem', None) or e}")


def read_source(path: Path) -> Tuple[PresetSource | None, List[Problem]]:
    """Parse one YAML preset and check it against the schema (not yet against a plugin).
    The source comes back whenever the YAML parsed, so that later checks can still run."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            return None, [Problem(path, 1, f"file is {size} bytes, more than the {MAX_SOURCE_BYTES} allowed")]
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        return None, [Problem(path, line, "not UTF-8 text")]
    except OSError as e:
        return None, [Problem(path, 1, f"unreadable: {e.strerror or e}")]
    try:
        docs = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        what = getattr(e, "problem", None) or str(e).splitlines()[0]
        return None, [Problem(path, line, f"YAML syntax error: {what}")]
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            return None, [Problem(path, event.start_mark.line + 1, "YAML anchors and aliases are not allowed")]
    docs = [d for d in docs if d is not None]
    if not docs:
        return None, [Problem(path, 1, "empty file: expected a preset (a mapping with name, model, parameters)")]
    if len(docs) > 1:
        return None, [Problem(path, docs[1].start_mark.line + 1, "more than one YAML document: one preset per file")]
    lines: Dict[Tuple, int] = {}
    key_lines: Dict[Tuple, int] = {}
    try:
        data = _to_python(docs[0], (), lines, key_lines, set())
    except _Bad as e:
        return None, [Problem(path, e.line, e.message)]
    src = PresetSource(path, data, lines, key_lines)
    problems = [Problem(path, line, msg) for line, msg in validate(data, load_schema(), src)]
    return src, problems


# --- a JSON Schema validator for the keywords schema.json uses ---------------------------

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _where(path: Tuple) -> str:
    return ".".join(str(p) for p in path) if path else "the preset"


def _kind(v) -> str:
    for name in ("boolean", "integer", "number", "string", "array", "object", "null"):
        if _TYPES[name](v):
            return {"object": "a mapping", "array": "a list", "null": "empty (null)",
                    "integer": "an integer"}.get(name, f"a {name}")
    return type(v).__name__     # e.g. a date YAML read as a timestamp


def validate(value, schema: dict, src: PresetSource, path: Tuple = ()) -> List[Tuple[int, str]]:
    """(line, message) for each way `value` breaks `schema`."""
    out: List[Tuple[int, str]] = []
    line = src.lines.get(path, 1)
    where = _where(path)
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_TYPES[t](value) for t in types):
            out.append((line, f"{where} must be {' or '.join(types)}, not {_kind(value)} ({value!r})"))
            return out
    if isinstance(value, float) and not math.isfinite(value):
        out.append((line, f"{where} must be a finite number, not {value!r}"))
    if "enum" in schema and value not in schema["enum"]:
        out.append((line, f"{where} must be one of {schema['enum']}, not {value!r}"))
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            out.append((line, f"{where} must not be empty" if schema["minLength"] == 1
                        else f"{where} must have at least {schema['minLength']} characters"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            out.append((line, f"{where} is longer than {schema['maxLength']} characters"))
        if "pattern" in schema and value and not re.search(schema["pattern"], value):
            out.append((line, f"{where} {value!r} does not match the pattern {schema['pattern']}"))
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append((line, f"{where} has more than {schema['maxItems']} items"))
        if schema.get("uniqueItems"):
            seen = set()
            for i, item in enumerate(value):
                key = json.dumps(item, sort_keys=True, default=str)
                if key in seen:
                    out.append((src.lines.get(path + (i,), line), f"{where} lists {item!r} twice"))
                seen.add(key)
        if "items" in schema:
            for i, item in enumerate(value):
                out += validate(item, schema["items"], src, path + (i,))
    if isinstance(value, dict):
        for req in schema.get("required", []):
            if req not in value:
                out.append((line, f"{where} is missing the required field {req!r}"))
        if len(value) < schema.get("minProperties", 0):
            out.append((line, f"{where} must not be empty"))
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        names = schema.get("propertyNames")
        for k, v in value.items():
            kline = src.key_lines.get(path + (k,), line)
            if names is not None and not re.search(names.get("pattern", ""), str(k)):
                out.append((kline, f"{_where(path + (k,))}: {k!r} is not a valid name "
                                   f"(pattern {names['pattern']})"))
                continue
            if k in props:
                out += validate(v, props[k], src, path + (k,))
            elif extra is False:
                known = ", ".join(props)
                out.append((kline, f"unknown field {k!r} in {where} (known: {known})"))
            elif isinstance(extra, dict):
                out += validate(v, extra, src, path + (k,))
    return out


def find_sources(directory: Path) -> List[Path]:
    directory = Path(directory)
    return sorted(p for p in directory.iterdir() if p.suffix in SUFFIXES and not p.name.startswith("."))
