"""Health, settings from the environment, production refusals, security headers, logs."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.db import DatabaseError

from kiungo.lib.logging import RedactPersonalData, redact

ROOT = Path(__file__).resolve().parents[3]
PRODUCTION = {
    "KIUNGO_ENV": "production",
    "KIUNGO_SECRET_KEY": "k" * 20 + "a-long-random-production-secret-0123456789",
    "KIUNGO_ALLOWED_HOSTS": "kiungo.example.org",
    "KIUNGO_FIELD_KEYS": "q1Yd5x0mUj3B2m0E8bK4sI9yT0vH6rF1cW7nL2pA5eg=",
    "KIUNGO_HASH_KEY": "a-long-random-hash-key-for-tests-only-0123456789",
}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIUNGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_health_checks_the_database(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_health_answers_503_when_the_database_fails(client, db):
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute", side_effect=DatabaseError("down")
    ):
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_security_headers(client, db):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = PRODUCTION | {"KIUNGO_SECRET_KEY": "", "KIUNGO_DATA_DIR": str(tmp_path)}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "KIUNGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("name", ["KIUNGO_FIELD_KEYS", "KIUNGO_HASH_KEY"])
def test_production_refuses_to_start_without_identity_keys(tmp_path, name):
    result = manage("check", env=PRODUCTION | {name: "", "KIUNGO_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert f"{name} is required in production" in result.stderr


def test_the_secret_key_may_come_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(PRODUCTION["KIUNGO_SECRET_KEY"] + "\n")
    env = PRODUCTION | {
        "KIUNGO_SECRET_KEY": "",
        "KIUNGO_SECRET_KEY_FILE": str(key_file),
        "KIUNGO_DATA_DIR": str(tmp_path),
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr


def test_check_deploy_passes_with_the_documented_production_settings(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=PRODUCTION | {"KIUNGO_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_demo_data_is_refused_in_production(tmp_path):
    env = PRODUCTION | {"KIUNGO_DATA_DIR": str(tmp_path)}
    assert manage("migrate", "--noinput", env=env).returncode == 0
    result = manage("demo", env=env)
    assert result.returncode != 0
    assert "production" in result.stderr


def test_a_bad_boolean_is_a_clear_error(tmp_path):
    result = manage("check", env={"KIUNGO_DEBUG": "maybe", "KIUNGO_DATA_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "KIUNGO_DEBUG must be true or false" in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "call +243 991 234 567 now",
        "from 0991234567",
        "sender 243991234567",
        "+211(92)1234567",
        "write to amani.kahindo@example.org",
    ],
)
def test_log_lines_never_carry_phone_numbers_or_emails(text):
    assert not any(ch.isdigit() for ch in redact(text).replace("[phone]", ""))
    assert "@" not in redact(text)


def test_the_log_filter_redacts_arguments_and_exceptions():
    record = logging.LogRecord(
        "kiungo", logging.ERROR, __file__, 1, "message from %s", ("+243991234567",), None
    )
    try:
        raise ValueError("bad number +243991234567")
    except ValueError:
        record.exc_info = sys.exc_info()
    RedactPersonalData().filter(record)
    assert record.getMessage() == "message from [phone]"
    assert "243991234567" not in logging.Formatter().format(record)


def test_production_logs_are_json_and_redacted(tmp_path):
    code = (
        "import logging, django; django.setup(); "
        "logging.getLogger('kiungo.test').warning('alert from %s', '+243991234567')"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIUNGO_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean
        | PRODUCTION
        | {"KIUNGO_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "kiungo.settings"},
    )
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["level"] == "WARNING" and line["logger"] == "kiungo.test"
    assert line["message"] == "alert from [phone]"


@pytest.mark.parametrize(
    "path",
    [
        "/areas/CD%0061/",
        "/incidents/K%00X/",
        "/alerts/A%00X/",
        "/incidents/?area=Be%00ni",
        "/responsibility/?mission=1&place=Be%00ni",
        "/api/alerts/A%00X",
    ],
)
def test_a_nul_byte_in_an_address_is_a_clear_error_not_a_500(client, world, path):
    # PostgreSQL refuses NUL in text; such input must stop at the URL or the form.
    client.force_login(world.users["ewo"])
    assert client.get(path).status_code in (400, 401, 404, 200)
