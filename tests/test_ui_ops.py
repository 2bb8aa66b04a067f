"""What the UI shows for the assets, jobs, schedule and sensors of the ops modules: one owner, the
group named after the key's schema, a kind on every asset, French descriptions."""

from __future__ import annotations

import re

from coproff_platform.assets.exports import EXPORT_ASSETS
from coproff_platform.automation import JOBS, SCHEDULES, SENSORS
from coproff_platform.ui import OWNERS, group_of

# A French text here has accented letters or French articles; an English one has neither.
FRENCH = re.compile(r"[éèêàçù]|\b(les?|la|des|du|d'un|une?)\b", re.I)


def test_export_assets_have_the_owner_the_schema_group_a_kind_and_french_descriptions():
    for assets_def in EXPORT_ASSETS:
        for key in assets_def.keys:
            spec = assets_def.specs_by_key[key]
            assert list(spec.owners) == OWNERS, key
            assert spec.group_name == group_of(key) == key.path[0], key
            assert spec.kinds, key
            assert FRENCH.search(spec.description or ""), (key, spec.description)


def test_jobs_schedules_and_sensors_are_described_in_french():
    for definition in [*JOBS, *SCHEDULES, *SENSORS]:
        assert FRENCH.search(definition.description or ""), (definition.name, definition.description)


def test_no_preview_warning_when_the_code_location_loads():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-W", "default", "-c", "import coproff_platform.definitions"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "PreviewWarning" not in proc.stderr, proc.stderr[-2000:]
