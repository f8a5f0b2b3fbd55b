"""Docs stay true: README's config table and the OpenAPI route list."""
import re
import subprocess

import yaml

from conftest import BIN, ROOT


def test_readme_has_the_table_of_every_config_key():
    table = subprocess.run([BIN, "config", "keys"], capture_output=True,
                           text=True, check=True).stdout
    readme = open(f"{ROOT}/README.md").read()
    assert table in readme, "README.md config table is stale: paste `lexar.fcgi config keys`"


def route_table():
    src = open(f"{ROOT}/fcgi/routes.c").read()
    rows = re.findall(r'\{\s*M_(\w+),\s*"([^"]+)"', src)
    return {(m.lower(), re.sub(r":(\w+)", r"{\1}", p)) for m, p in rows}


def test_openapi_documents_exactly_the_routes():
    doc = yaml.safe_load(open(f"{ROOT}/fcgi/openapi.yaml"))
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops
                  if m in ("get", "post", "put", "patch", "delete")}
    assert route_table() == documented
