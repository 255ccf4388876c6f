"""Method modules. Importing this package imports every module in it, which registers each
method with :func:`explainers.explain` (a new method is a new module here, nothing else)."""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
