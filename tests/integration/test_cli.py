"""lexar.fcgi on the command line: configuration errors and migrations."""
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import BIN, ROOT, VAR, PGSOCK, psql

BASE_ENV = {"PATH": os.environ["PATH"],
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", ""),
            "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", ""),
            "LSAN_OPTIONS": os.environ.get("LSAN_OPTIONS", "")}
GOOD = {"DATABASE_URL": f"host={PGSOCK} dbname=lexar user=postgres",
        "JWT_SECRET": "dev-secret"}


def run(args, env=None, conf_text=None):
    with tempfile.TemporaryDirectory() as d:
        if conf_text is not None:
            path = os.path.join(d, "conf.yaml")
            with open(path, "w") as f:
                f.write(conf_text)
            args = args + ["--config", path]
        e = dict(BASE_ENV)
        e.update(env or {})
        p = subprocess.run([BIN] + args, env=e, capture_output=True, text=True,
                           cwd=d, timeout=60)
        return p.returncode, p.stdout, p.stderr


def test_config_check_accepts_the_shipped_conf_yaml():
    code, out, err = run(["config", "check", "--config", f"{ROOT}/conf.yaml"], GOOD)
    assert code == 0, err
    assert "configuration ok (development)" in out


def test_unknown_key_is_named_with_its_line():
    code, out, err = run(["config", "check"], GOOD,
                         "port: 8080\ndatabase:\n  statement_timeout_ms: 4\n  poolsize: 5\n")
    assert code == 1
    assert "conf.yaml:4: database.poolsize: unknown key" in err


def test_wrong_type_and_range_are_named():
    code, _, err = run(["config", "check"], GOOD, "pools:\n  api:\n    db_connections: lots\n")
    assert code == 1 and "conf.yaml:3: pools.api.db_connections: expected an integer from 1 to 500" in err
    code, _, err = run(["config", "check"], GOOD, "jwt:\n  expires: forever\n")
    assert code == 1 and "jwt.expires: expected a duration" in err
    code, _, err = run(["config", "check"], dict(GOOD, LEXAR_API_THREADS="0"))
    assert code == 1 and "environment LEXAR_API_THREADS: pools.api.threads" in err


def test_production_refuses_weak_secrets_and_missing_admin_key():
    env = dict(GOOD, LEXAR_ENV="production", JWT_SECRET="too-short-secret")
    code, _, err = run(["config", "check"], env)
    assert code == 1
    assert "jwt.secret: must be at least 32 bytes in production" in err
    assert "admin.api_key: is required in production" in err
    assert "too-short-secret" not in err
    # The server itself refuses to start, before touching any socket.
    code, _, err = run(["serve", "--socket", "/tmp/lexar-never.sock"], env)
    assert code == 1 and "jwt.secret" in err
    assert not os.path.exists("/tmp/lexar-never.sock")
    env.update(JWT_SECRET="x" * 32, ADMIN_API_KEY="k" * 32)
    code, out, err = run(["config", "check"], env)
    assert code == 0, err


def test_node_env_is_an_alias_and_secrets_are_hidden():
    code, out, err = run(["config", "show"], dict(GOOD, NODE_ENV="production",
                                                  JWT_SECRET="s" * 40,
                                                  ADMIN_API_KEY="a" * 30))
    assert code == 0, err
    assert "env: production" in out
    assert "s" * 40 not in out and "a" * 30 not in out
    assert "jwt.secret: (set, 40 bytes)" in out


def test_serve_without_a_socket_explains_itself():
    code, _, err = run(["serve"], GOOD)
    assert code == 1 and "spawn-fcgi" in err


@pytest.fixture
def scratch_db():
    name = "lexar_migtest"
    psql(f"DROP DATABASE IF EXISTS {name}", db="postgres")
    psql(f"CREATE DATABASE {name}", db="postgres")
    yield name, f"host={PGSOCK} dbname={name} user=postgres"
    psql(f"DROP DATABASE IF EXISTS {name}", db="postgres")


def migrate(url, d):
    return run(["migrate", "--dir", d], dict(GOOD, DATABASE_URL=url))


def test_migrations_apply_in_order_once_and_refuse_edits(scratch_db, tmp_path):
    name, url = scratch_db
    d = tmp_path / "sql"
    shutil.copytree(f"{ROOT}/sql", d)
    code, out, err = migrate(url, str(d))
    assert code == 0, err
    assert "applied 001_base.sql" in out
    versions = psql("SELECT string_agg(version::text, ',' ORDER BY version) "
                    "FROM schema_migrations", db=name)
    assert versions.startswith("1")
    code, out, err = migrate(url, str(d))
    assert code == 0 and "up to date" in out
    # An applied file that changes is refused, naming it.
    (d / "001_base.sql").write_text((d / "001_base.sql").read_text() + "\n-- edit\n")
    code, out, err = migrate(url, str(d))
    assert code == 1
    assert "001_base.sql was changed after it was applied" in err


def test_a_failing_migration_leaves_nothing_half_applied(scratch_db, tmp_path):
    name, url = scratch_db
    d = tmp_path / "sql"
    d.mkdir()
    (d / "001_ok.sql").write_text("CREATE TABLE a (x int);\n")
    (d / "002_bad.sql").write_text("CREATE TABLE b (x int);\nINSERT INTO nope VALUES (1);\n")
    code, out, err = migrate(url, str(d))
    assert code == 1
    assert "002_bad.sql failed" in err and "nope" in err
    assert psql("SELECT count(*) FROM schema_migrations", db=name) == "1"
    assert psql("SELECT to_regclass('b') IS NULL", db=name) == "t"
    (d / "2_x.sql").write_text("SELECT 1;")
    code, out, err = migrate(url, str(d))
    assert code == 1 and "NNN_lowercase_name.sql" in err
