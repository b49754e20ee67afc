"""A fresh Postgres database per test run (or per test) on whatever server is given."""

from __future__ import annotations

import uuid

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo


def database_url(server_url: str, name: str) -> str:
    return make_conninfo(server_url, dbname=name)


def create_database(server_url: str, prefix: str = "editai_test", template: str | None = None) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_conninfo(server_url, dbname=conninfo_to_dict(server_url).get("dbname") or "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')  # type: ignore[arg-type]
    return database_url(server_url, name)


def drop_database(url: str) -> None:
    name = conninfo_to_dict(url)["dbname"]
    admin = make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
