"""What the tests of own material (tables, texts) share: the check that bad material is refused
with the file, row and column named and nothing stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.scenarios.own import MaterialError, check_material


def refused(tmp_path: Path, section: dict, *fragments: str) -> str:
    """Check that the material is refused with all fragments named and nothing stored."""
    store = tmp_path / "store"
    with pytest.raises(MaterialError) as caught:
        check_material(section, base_dir=tmp_path, store=store)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    assert not store.exists() or not any(store.iterdir())
    return message
