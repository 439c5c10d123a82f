"""The form's script (static/kiungo/report-draft.js), run by Node on a fake page: it saves as
the CLA types, keeps the text on the device until the server has it, and puts it back after a
lost connection. Skipped where Node is not installed."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

NODE = shutil.which("node") or shutil.which("nodejs")
HERE = Path(__file__).parent
SCRIPT = HERE.parents[1] / "static" / "kiungo" / "report-draft.js"

pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed")


def run(scenario: str) -> dict:
    result = subprocess.run(
        [NODE, str(HERE / "js" / "draft_harness.js"), str(SCRIPT), scenario],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


def test_typing_keeps_a_local_copy_then_saves_and_drops_it():
    done = run("save")
    assert json.loads(done["kept"])["fields"]["section_security"] == "Calme"
    [post] = done["posts"]
    assert post["url"] == "/reports/7/autosave/"
    assert post["body"]["section_security"] == "Calme" and post["body"]["csrfmiddlewaretoken"]
    assert done["storage"] == {} and done["stamp"] == "S2" and done["state"] == "saved 12:00"


def test_offline_the_copy_stays_and_a_retry_is_planned():
    done = run("offline")
    assert json.loads(done["storage"]["kiungo-report-7"])["fields"]["section_security"] == "Calme"
    assert done["state"] == "offline" and done["retries"] == 1


def test_a_copy_typed_after_the_last_save_is_restored_and_saved():
    done = run("restore")
    assert done["value"] == "typed offline" and done["state"] == "saved 12:00"
    assert done["posts"][0]["body"]["section_security"] == "typed offline"
    assert done["storage"] == {}


def test_a_copy_older_than_the_servers_text_is_dropped():
    done = run("stale")
    assert done["value"] == "" and done["posts"] == [] and done["storage"] == {}
