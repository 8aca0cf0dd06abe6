"""The wheel a user installs carries what `package` and `deploy` read at run time, not only the code."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_ships_the_container_templates_and_the_pulumi_project(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("leanserve-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in ("containers/triton/Dockerfile.tmpl", "containers/sagemaker/Dockerfile.tmpl", "containers/requirements.txt",
                "infra/Pulumi.yaml", "infra/__main__.py", "infra/leanserve_infra/sagemaker_endpoint.py"):
        assert f"toolkit/assets/{rel}" in names, rel
    assert "toolkit/data/" in {n[:13] for n in names}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
