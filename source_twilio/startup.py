"""Start-up: import of the CDK what a command uses, before anything imports it.

Two costs every command paid, for nothing the connector uses (about 1.2 of 1.9 seconds):

- ``import airbyte_cdk.<anything>`` first runs the package's ``__init__``, which imports all of the CDK: its
  declarative framework (pydantic models of the manifest schema), file-based sources, destinations, jinja2.
  ``import_cdk_lightly`` registers the package without running it; the modules the connector imports load as
  usual, and the first use of a name of the package itself (``airbyte_cdk.launch``, say) runs the ``__init__``
  then, so any code that needs the whole package still gets it.
- The protocol serializers (serpyco-rs) read the source code of every protocol model, at import, to put its
  attributes' documentation into a JSON schema that serializing never reads. They are given no documentation.

Only for the process's own entry point (``run``), and only when the CDK is not imported yet: a process that
imported it already (a test runner, PyAirbyte's in-process use) keeps it as it is.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

CDK = "airbyte_cdk"


def import_cdk_lightly() -> None:
    if CDK in sys.modules:
        return
    _serializers_without_docs()
    spec = importlib.util.find_spec(CDK)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not an installed package: imported the usual way, or not at all
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def whole_package(name: str) -> Any:
        """A name of the package itself: its ``__init__`` runs now, once, in place."""
        if name.startswith("__"):
            raise AttributeError(name)
        submodule = sys.modules.get(f"{CDK}.{name}")
        if submodule is not None:  # being imported (``import airbyte_cdk.a.b as c`` looks it up here)
            return submodule
        del package.__dict__["__getattr__"]
        loader.exec_module(package)
        return getattr(package, name)

    package.__getattr__ = whole_package  # type: ignore[method-assign]  # PEP 562
    sys.modules[CDK] = package


def _serializers_without_docs() -> None:
    if "serpyco_rs" in sys.modules:
        return
    try:
        import attributes_doc
    except ImportError:
        return

    def no_docs(_cls: Any) -> dict[str, str]:
        return {}

    attributes_doc.get_attributes_doc = no_docs
