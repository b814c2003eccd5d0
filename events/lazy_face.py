"""A package's public face whose names are imported on first use (PEP 562).

events/models.py imports the capability packages' models while it loads, so a package whose
models it imports (audit, bulk, monitoring) must import nothing else when the package itself is
imported: its face names each public name's module, and the module is imported when the name is
first read.
"""

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_face(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The module `__getattr__` of `package`: each name of `homes` read from its module there,
    given as "module" (the same name) or "module:name"."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, attribute = homes[name].partition(":")
        return getattr(import_module(f"{package}.{module}"), attribute or name)

    return __getattr__
