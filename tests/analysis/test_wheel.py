"""The analysis wheel and the export's pinned environment, checked with the standard library:
zipfile reads the archive, hashlib recomputes RECORD, tomllib reads pyproject.toml."""

from __future__ import annotations

import ast
import base64
import hashlib
import sys
import tarfile
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from analysis.report.environment import pinned_requirements, write_environment
from analysis.wheel import DESIGN_MODULES, build_sdist, package_files, project, write_wheel

REPOSITORY = Path(__file__).resolve().parents[2]


def declared() -> dict[str, object]:
    return tomllib.loads((REPOSITORY / "pyproject.toml").read_text("utf-8"))["project"]


def test_the_wheel_holds_the_package_and_a_record_whose_hashes_match(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path)
    assert wheel.name == f"explainlab-{declared()['version']}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        record = archive.read(f"explainlab-{declared()['version']}.dist-info/RECORD").decode()
        for line in record.splitlines():
            name, digest, size = line.rsplit(",", 2)
            if name.endswith("RECORD"):
                assert digest == size == ""
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={expected.decode()}" and int(size) == len(data)
        assert len(record.splitlines()) == len(names)
    shipped = {n for n in names if n.startswith("analysis/")}
    assert shipped == {f"analysis/{p.relative_to(REPOSITORY / 'analysis').as_posix()}"
                       for p in package_files()}
    assert "analysis/mixed/__init__.py" in shipped
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_the_wheel_ships_every_module_outside_analysis_that_analysis_imports(
        tmp_path: Path) -> None:
    """A notebook away from the repository imports analysis from the wheel alone: every
    ``experiments`` module analysis imports travels with it, and itself imports only the
    standard library and the other modules shipped beside it."""
    imported = {f"{node.module.replace('.', '/')}.py"
                for path in package_files() for node in ast.walk(ast.parse(path.read_bytes()))
                if isinstance(node, ast.ImportFrom) and node.module
                and node.module.startswith("experiments")}
    assert imported == {"experiments/designs.py"}
    with zipfile.ZipFile(write_wheel(tmp_path)) as archive:
        names = set(archive.namelist())
        top_level = archive.read(f"explainlab-{declared()['version']}.dist-info/"
                                 "top_level.txt").decode().split()
    assert imported <= set(DESIGN_MODULES) <= names
    assert top_level == ["analysis", "experiments"]
    for name in DESIGN_MODULES:
        for node in ast.walk(ast.parse((REPOSITORY / name).read_bytes())):
            if isinstance(node, ast.ImportFrom | ast.Import):
                modules = [node.module] if isinstance(node, ast.ImportFrom) else \
                    [alias.name for alias in node.names]
                # The standard library, or another module that travels in the wheel.
                assert all(m and (m.split(".")[0] in sys.stdlib_module_names
                                  or f"{m.replace('.', '/')}.py" in DESIGN_MODULES)
                           for m in modules), (name, modules)


def test_the_wheel_metadata_is_the_projects_declaration(tmp_path: Path) -> None:
    with zipfile.ZipFile(write_wheel(tmp_path)) as archive:
        text = archive.read(f"explainlab-{declared()['version']}.dist-info/METADATA").decode()
    lines = text.splitlines()
    assert f"Name: {declared()['name']}" in lines
    assert f"Requires-Python: {declared()['requires-python']}" in lines
    assert [line.removeprefix("Requires-Dist: ") for line in lines
            if line.startswith("Requires-Dist: ")] == declared()["dependencies"]


def test_the_wheel_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    first = write_wheel(tmp_path / "a").read_bytes()
    assert write_wheel(tmp_path / "b").read_bytes() == first


def test_the_source_archive_carries_pyproject_and_the_package(tmp_path: Path) -> None:
    name = build_sdist(str(tmp_path))
    base = f"explainlab-{declared()['version']}"
    with tarfile.open(tmp_path / name) as archive:
        names = set(archive.getnames())
    assert {f"{base}/PKG-INFO", f"{base}/pyproject.toml", f"{base}/analysis/wheel.py",
            *(f"{base}/{name}" for name in DESIGN_MODULES)} <= names


def test_requirements_pin_every_dependency_at_its_installed_version(tmp_path: Path) -> None:
    pins = dict(line.split("==") for line in pinned_requirements())
    for requirement in project().dependencies:
        name = requirement.split(">")[0].split("=")[0].split("<")[0].strip().lower()
        assert pins[name] == metadata.version(name)
    # Transitive: what formulaic and matplotlib need is pinned too.
    assert pins["interface-meta"] == metadata.version("interface-meta")
    assert pins["kiwisolver"] == metadata.version("kiwisolver")
    wheel, requirements = write_environment(tmp_path)
    lines = requirements.read_text("utf-8").splitlines()
    assert f"./{wheel.name}" in lines
    assert [line for line in lines if "==" in line] == pinned_requirements()


@pytest.mark.parametrize("argv", [["run", "missing.ipynb"], ["run", "not-a-notebook.ipynb"]])
def test_running_a_notebook_that_is_not_there_or_not_a_notebook_fails_plainly(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    from analysis.report.__main__ import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "not-a-notebook.ipynb").write_text("{ not json", "utf-8")
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert (tmp_path / "not-a-notebook.ipynb").read_text("utf-8") == "{ not json"
