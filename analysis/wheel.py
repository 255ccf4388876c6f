"""The ``explainlab`` wheel of the pure ``analysis`` package (with the task designs it scores
by, ``experiments.designs``), built with the standard library.

Two users, one builder:

* ``pip install .`` (or ``pip wheel .``) in the repository: this module is the PEP 517 build
  backend that ``pyproject.toml`` names, so installing needs no build tool from the network.
* A study export, which vendors the wheel beside ``analysis.ipynb`` (see
  :mod:`analysis.report.environment`), so the notebook runs on a machine without the
  repository.

The wheel is reproducible: files in sorted order with a fixed timestamp, so the same source
gives the same bytes. The project's name, version and dependencies are read from
``pyproject.toml`` in a checkout, or from the installed distribution's metadata otherwise.
This module imports nothing outside the standard library: pip runs it in an empty
environment.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "explainlab"
PACKAGE_DIR = Path(__file__).resolve().parent
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


@dataclass(frozen=True)
class Project:
    """What a wheel's METADATA says about the distribution."""

    name: str
    version: str
    summary: str
    requires_python: str
    dependencies: tuple[str, ...]

    @property
    def wheel_name(self) -> str:
        return f"{self.name}-{self.version}-py3-none-any.whl"

    @property
    def dist_info(self) -> str:
        return f"{self.name}-{self.version}.dist-info"


def project() -> Project:
    """The project as declared in ``pyproject.toml`` beside the package, else as installed."""
    pyproject = PACKAGE_DIR.parent / "pyproject.toml"
    if pyproject.is_file():
        table = tomllib.loads(pyproject.read_text("utf-8"))["project"]
        return Project(
            name=table["name"],
            version=table["version"],
            summary=table.get("description", ""),
            requires_python=table.get("requires-python", ""),
            dependencies=tuple(table.get("dependencies", ())),
        )
    try:
        installed = metadata.metadata(DISTRIBUTION)
    except metadata.PackageNotFoundError as error:
        raise RuntimeError(
            "neither pyproject.toml nor an installed explainlab distribution describes this "
            "analysis package; install it with pip or run from the repository"
        ) from error
    def field(key: str) -> str:
        return str((installed.get_all(key) or [""])[0])

    return Project(
        name=field("Name"),
        version=field("Version"),
        summary=field("Summary"),
        requires_python=field("Requires-Python"),
        dependencies=tuple(metadata.requires(DISTRIBUTION) or ()),
    )


# The task designs the analysis scores by (each design's rule and metrics) travel with it, so a
# notebook away from the repository reads the declarations the app used. Standard library only.
DESIGN_MODULES = ("experiments/__init__.py", "experiments/designs.py", "experiments/languages.py")


def shipped_files() -> list[Path]:
    """The package's files and the task designs, sorted."""
    return sorted([*package_files(), *(PACKAGE_DIR.parent / name for name in DESIGN_MODULES)])


def package_files(root: Path = PACKAGE_DIR) -> list[Path]:
    """Every file of the package to ship, sorted; bytecode caches are left out."""
    return sorted(
        path for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def write_wheel(directory: str | Path, *, info: Project | None = None) -> Path:
    """Write the wheel into ``directory`` and return its path."""
    info = info or project()
    root = PACKAGE_DIR.parent
    entries = [(path.relative_to(root).as_posix(), path.read_bytes())
               for path in shipped_files()]
    top_level = sorted({name.split("/")[0] for name, _ in entries})
    entries += [
        (f"{info.dist_info}/METADATA", _metadata(info).encode()),
        (f"{info.dist_info}/WHEEL", _WHEEL.encode()),
        (f"{info.dist_info}/top_level.txt", "".join(f"{n}\n" for n in top_level).encode()),
    ]
    record = "".join(f"{name},sha256={_digest(data)},{len(data)}\n" for name, data in entries)
    entries.append((f"{info.dist_info}/RECORD", (record + f"{info.dist_info}/RECORD,,\n").encode()))
    out = Path(directory) / info.wheel_name
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries:
            entry = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            wheel.writestr(entry, data)
    return out


def _metadata(info: Project) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {info.name}", f"Version: {info.version}"]
    if info.summary:
        lines.append(f"Summary: {info.summary}")
    if info.requires_python:
        lines.append(f"Requires-Python: {info.requires_python}")
    lines += [f"Requires-Dist: {dependency}" for dependency in info.dependencies]
    return "\n".join(lines) + "\n"


def _digest(data: bytes) -> str:
    """RECORD's hash: URL-safe base64 of the SHA-256, without padding (PEP 376 / 427)."""
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


_WHEEL = """\
Wheel-Version: 1.0
Generator: analysis.wheel
Root-Is-Purelib: true
Tag: py3-none-any
"""


# --- PEP 517 build backend ----------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: object = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: object = None) -> list[str]:
    return []


def build_wheel(
    wheel_directory: str, config_settings: object = None, metadata_directory: object = None
) -> str:
    return write_wheel(wheel_directory).name


def build_sdist(sdist_directory: str, config_settings: object = None) -> str:
    """A source archive: pyproject.toml, README.md, the package and the task designs, under
    name-version/."""
    info = project()
    base = f"{info.name}-{info.version}"
    root = PACKAGE_DIR.parent
    files = [root / "pyproject.toml", *shipped_files()]
    if (root / "README.md").is_file():
        files.append(root / "README.md")
    out = Path(sdist_directory) / f"{base}.tar.gz"
    with tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        _add_bytes(archive, f"{base}/PKG-INFO", _metadata(info).encode())
        for path in files:
            _add_bytes(archive, f"{base}/{path.relative_to(root).as_posix()}", path.read_bytes())
    return out.name


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    entry = tarfile.TarInfo(name)
    entry.size, entry.mode = len(data), 0o644
    archive.addfile(entry, io.BytesIO(data))
