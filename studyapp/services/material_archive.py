"""A researcher's pictures brought through the web as one .zip: the table (CSV or Parquet) and
the pictures it names, relative to the table. Unpacked into a temporary folder, safely.

A zip is written by the uploader, so nothing in it is believed: every entry's name is checked
before anything is written (no absolute paths, no ``..``, no symbolic links, no encrypted or
duplicated entries), the number of entries and their total size are capped from the headers,
and the size is counted again while unpacking, since a zip bomb's header may lie about it.
Only the suffixes the readers know are unpacked; anything else (a README, macOS metadata) is
skipped. Errors raise :class:`MaterialError` naming the zip and the entry.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from experiments.scenarios.own import DATA_SUFFIXES, MaterialError
from experiments.scenarios.own_images import IMAGE_SUFFIXES, MAX_IMAGES

# 64 MiB unpacked: 20,000 small pictures and their table fit; a photo album does not, and the
# pictures are shrunk to 16 x 16 pixels anyway.
MAX_UNPACKED_BYTES = 64 * 2**20
# The pictures, the table, and a few folder entries and stray files beside them.
MAX_ENTRIES = MAX_IMAGES + 50
ARCHIVE_SUFFIX = ".zip"
_UNPACKED_SUFFIXES = (*DATA_SUFFIXES, *IMAGE_SUFFIXES)
_CHUNK = 1 << 16


def unpack_pictures(archive: Path, folder: Path, *, label: str) -> Path:
    """Unpack the zip's table and pictures into ``folder``; returns the table's path there.

    The table is the one CSV or Parquet file at the top of the zip, or at the top of its one
    folder (a zipped folder); pictures are found relative to it."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            entries = _checked_entries(zipped, label)
            table = _table(entries, label)
            _unpack(zipped, entries, folder, label)
    except zipfile.BadZipFile as exc:  # also a CRC that does not match: a header that lied
        raise MaterialError(f"{label}: not a readable zip ({str(exc)[:200]})") from None
    return folder / table


def _checked_entries(zipped: zipfile.ZipFile, label: str) -> list[zipfile.ZipInfo]:
    """Every entry, checked from the headers before a byte is unpacked."""
    entries = zipped.infolist()
    if len(entries) > MAX_ENTRIES:
        raise MaterialError(f"{label}: {len(entries):,} entries, more than the limit of "
                            f"{MAX_ENTRIES:,} (at most {MAX_IMAGES:,} pictures and their table)")
    seen: set[str] = set()
    for entry in entries:
        _check_name(entry, label)
        if entry.filename in seen:
            raise MaterialError(f"{label}: {entry.filename!r} is in the zip twice")
        seen.add(entry.filename)
    total = sum(e.file_size for e in entries)
    if total > MAX_UNPACKED_BYTES:
        raise MaterialError(f"{label}: {_mib(total)} unpacked, more than the limit of "
                            f"{_mib(MAX_UNPACKED_BYTES)}; shrink the pictures or send fewer")
    return entries


def _check_name(entry: zipfile.ZipInfo, label: str) -> None:
    name = entry.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (parts and ":" in parts[0]) or ".." in parts:
        raise MaterialError(f"{label}: entry {name!r} points outside the zip's folder "
                            "(an absolute path or '..'); zip the folder with relative names")
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise MaterialError(f"{label}: entry {name!r} is a symbolic link; put the file itself "
                            "in the zip")
    if entry.flag_bits & 0x1:
        raise MaterialError(f"{label}: entry {name!r} is encrypted; zip it without a password")


def _table(entries: list[zipfile.ZipInfo], label: str) -> str:
    """The name of the one table at the top of the zip (or of its one top folder)."""
    files = [e.filename for e in entries if not e.is_dir() and not _metadata(e.filename)]
    tops = {PurePosixPath(name).parts[0] for name in files}
    prefix = f"{next(iter(tops))}/" if len(tops) == 1 and all("/" in f for f in files) else ""
    tables = sorted(f for f in files if f.startswith(prefix) and "/" not in f[len(prefix):]
                    and PurePosixPath(f).suffix.lower() in DATA_SUFFIXES)
    if not tables:
        deeper = [f for f in files if PurePosixPath(f).suffix.lower() in DATA_SUFFIXES]
        raise MaterialError(f"{label}: no table (.csv or .parquet) at the top of the zip"
                            + (f"; found only {', '.join(deeper[:5])} in folders below it"
                               if deeper else "") + "; put the table beside its pictures")
    if len(tables) > 1:
        raise MaterialError(f"{label}: {len(tables)} tables at the top of the zip "
                            f"({', '.join(tables[:5])}); keep the one that names the pictures")
    return tables[0]


def _unpack(zipped: zipfile.ZipFile, entries: list[zipfile.ZipInfo], folder: Path,
            label: str) -> None:
    """Unpack the known suffixes, counting the bytes as they come: a header may lie."""
    root = folder.resolve()
    budget = MAX_UNPACKED_BYTES
    for entry in entries:
        if (entry.is_dir() or _metadata(entry.filename)
                or PurePosixPath(entry.filename).suffix.lower() not in _UNPACKED_SUFFIXES):
            continue
        target = (root / entry.filename).resolve()
        if not target.is_relative_to(root):  # checked by name already; the path decides
            raise MaterialError(f"{label}: entry {entry.filename!r} points outside the zip")
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipped.open(entry) as source, target.open("xb") as out:
            budget -= copy_capped(source, out, limit=min(budget, entry.file_size),
                                  label=f"{label}: {entry.filename}")


def _metadata(name: str) -> bool:
    """macOS's Finder adds a __MACOSX folder of resource forks to the zips it makes."""
    return name.startswith("__MACOSX/")


def copy_capped(source: IO[bytes], out: IO[bytes], *, limit: int, label: str) -> int:
    """Copy at most ``limit`` bytes; more is refused (an entry larger than its header says,
    or beyond what is left of the total). Returns the bytes copied."""
    copied = 0
    while chunk := source.read(_CHUNK):
        copied += len(chunk)
        if copied > limit:
            raise MaterialError(f"{label}: unpacks to more than its header says or than the "
                                f"limit of {_mib(MAX_UNPACKED_BYTES)} in all; a damaged or "
                                "malicious zip")
        out.write(chunk)
    return copied


def _mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB" if size >= 2**20 else f"{size / 2**10:,.0f} KiB"
