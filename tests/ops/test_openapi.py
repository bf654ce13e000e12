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
