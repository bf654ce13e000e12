"""The OpenAPI description covers every route the app serves."""
from __future__ import annotations

import re


def test_openapi_is_valid_and_lists_every_route(app, client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").json
    validate(document)
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method in {"get", "post", "patch", "put", "delete"}}
    served = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + ("id" if m[1].endswith("id") else m[1]) + "}",
                      rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    assert served - documented == set(), "routes missing from the OpenAPI document"
    assert documented - served == set(), "documented routes that do not exist"


METHODS = {"get", "post", "patch", "put", "delete"}
ERROR = {"$ref": "#/components/schemas/Error"}


def _resolve(document, node):
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        *_, kind, name = node["$ref"].split("/")
        node = document["components"][kind][name]
    return node


def _answers(document):
    for path, item in document["paths"].items():
        for method in METHODS & set(item):
            for status, response in item[method]["responses"].items():
                yield f"{method.upper()} {path} {status}", path, int(status), _resolve(document, response)


def test_every_error_answer_has_the_error_shape(client):
    """JSON errors everywhere; the pages that links in mail open (outside /api/) answer in HTML."""
    document = client.get("/api/v1/openapi.json").json
    for label, path, status, response in _answers(document):
        if status < 400:
            continue
        content = response.get("content", {})
        if "text/html" in content:
            assert not path.startswith("/api/") and set(content) == {"text/html"}, label
        else:
            assert content == {"application/json": {"schema": ERROR}}, label


def _open_objects(document, schema, where: str, closed_above: bool = False, seen=None):
    """Places in ``schema`` where an object lists properties but allows others too."""
    seen = set() if seen is None else seen
    if isinstance(schema, dict) and "$ref" in schema:
        if schema["$ref"] in seen:
            return
        seen = seen | {schema["$ref"]}
    schema = _resolve(document, schema)
    if not isinstance(schema, dict):
        return
    closes = schema.get("unevaluatedProperties") is False
    if "properties" in schema and not (closed_above or closes or schema.get("additionalProperties") is False):
        yield where
    for part in schema.get("allOf", []):
        yield from _open_objects(document, part, where, closed_above or closes, seen)
    for key in ("anyOf", "oneOf"):
        for part in schema.get(key, []):
            yield from _open_objects(document, part, where, False, seen)
    for name, part in schema.get("properties", {}).items():
        yield from _open_objects(document, part, f"{where}.{name}", False, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _open_objects(document, schema[key], f"{where}[]", False, seen)


def test_answers_list_every_field_they_carry(client):
    """Response objects are closed: a field the description does not list is a contract break
    (tests/test_contract_schemathesis.py then catches it in the answers themselves)."""
    document = client.get("/api/v1/openapi.json").json
    open_objects = [place for label, _path, _status, response in _answers(document)
                    for media in response.get("content", {}).values()
                    for place in _open_objects(document, media.get("schema", {}), label)]
    assert open_objects == []
