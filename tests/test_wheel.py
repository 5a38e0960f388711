"""The installed package works: build the wheel, install it into a fresh virtual environment
outside the checkout, and render one report with the installed ``kpi``.

Offline and quick: the wheel is built with the project environment's setuptools
(``--no-build-isolation``), the new environment has no pip of its own and sees the project
environment's site-packages for kpilib's dependencies through a ``.pth`` line (which does not
run the editable install's finder, so only the installed wheel provides ``kpilib``) and its
``share/jupyter`` (nbconvert's templates) through ``JUPYTER_PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from kpilib import sample

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("kpilib", "notebooks"):
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "--wheel-dir",
            str(tmp / "dist"),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp / "dist").glob("kpilib-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "project_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--ignore-installed",
            "--quiet",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return {"tmp": tmp, "wheel": wheel, "venv": venv, "python": python}


def test_the_wheel_holds_every_subpackage_and_data_folder(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    packages = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "kpilib").rglob("__init__.py")}
    for package in packages:
        assert f"{package}/__init__.py" in names, package
    for data in (ROOT / "kpilib").rglob("*"):
        if data.is_file() and data.suffix in {".j2", ".css", ".json", ".ttf", ".ipynb"}:
            assert str(data.relative_to(ROOT)) in names, data


def test_the_installed_kpi_renders_a_report_outside_the_checkout(installed):
    tmp = installed["tmp"]
    project = tmp / "project"  # a deployment's project folder: params/, data/, outputs/
    shutil.copytree(ROOT / "params", project / "params")
    sample.generate(project / "data" / "sample", fy=2567, scale=0.02)  # the default --data
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KPILIB_", "PYTHON"))}
    # nbconvert's own templates are data files of the environment that installed it
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    where = subprocess.run(
        [str(installed["python"]), "-c", "import kpilib.paths as p; print(p.report_notebook())"],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed["venv"]) and Path(where).is_file()
    kpi = installed["venv"] / "bin" / "kpi"
    proc = subprocess.run(
        [str(kpi), "report", "--unit", "1032", "--fy", "2567", "--quarter", "1"],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
        timeout=600,
    )
    assert proc.returncode in (0, 3), proc.stderr  # 3: the sample's defects uncertify a KPI
    html = project / "outputs" / "2567" / "Q1" / "1032" / "report.html"
    assert f"kpi report: HTML  {html}" in proc.stdout
    text = html.read_text(encoding="utf-8")
    assert "เขตประเวศ" in text and "@font-face" in text and "kpi-report" in text
    index = (project / "outputs" / "2567" / "Q1" / "index.html").read_text(encoding="utf-8")
    assert "1032" in index
