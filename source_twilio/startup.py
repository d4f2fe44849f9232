"""Start-up: import of the CDK what a command uses, before anything imports it.

Two costs every command paid, for nothing the connector uses (about 1.2 of 1.9 seconds):

- ``import airbyte_cdk.<anything>`` first runs the package's ``__init__``, which imports all of the CDK: its
  declarative framework (pydantic models of the manifest schema), file-based sources, destinations, jinja2.
  ``import_cdk_lightly`` registers the package without running it; the modules the connector imports load as
  usual, and the first use of a name of the package itself (``airbyte_cdk.launch``, say) runs the ``__init__``
  then, so any code that needs the whole package still gets it.
- The protocol serializers (serpyco-rs) read the source code of every protocol model, at import, to put its
  attributes' documentation into a JSON schema that serializing never reads. They are given no documentation.
- Building the serializers at all (importing serpyco-rs whole, describing every model) was a quarter of what
  ``spec`` and ``check`` took, and a tenth of ``read``'s start-up, for a catalog, a state and a few hundred
  plain lines. ``airbyte_cdk.models`` is registered unrun too: a protocol class comes from its own module, and
  each serializer is a stand-in that dumps and loads with ``protocol``, and builds the real one only for what
  ``protocol`` leaves to it (``serpyco_rs`` itself, registered unrun, loads whole then).
- The CDK's source framework uses pydantic's first version, ``pydantic.v1``, a package of its own inside pydantic 2;
  importing it ran pydantic 2's ``__init__`` first (pydantic-core and its schema types, 6% of ``read``'s start-up).
  ``pydantic`` is registered unrun too.

Only for the process's own entry point (``run``), and only when the CDK is not imported yet: a process that
imported it already (a test runner, PyAirbyte's in-process use) keeps it as it is.

Start-up builds modules, classes and functions that live as long as the process, and no garbage: the cycle
collector, which ran over them again and again as they were built (a fifth of ``spec``'s CPU), is paused
(``pause_collection``) until ``collect_from_now``.
"""

from __future__ import annotations

import gc
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

CDK = "airbyte_cdk"


def pause_collection() -> None:
    """No cycle collection while the process starts (see the module's docstring)."""
    gc.disable()


def collect_from_now() -> None:
    """The cycle collector again, running seldom and never over what start-up built. Records are parsed into dicts,
    which it tracks though they never form cycles: at its defaults it ran every 700 of them, and every few hundred
    pages over the whole heap, start-up's modules and classes included (an eighth of a 60,000-message read's
    CPU; a fiftieth with this). Cyclic garbage, rare here, waits a little longer to be freed."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
    gc.enable()


GC_YOUNG_THRESHOLD = 10_000  # net allocations of tracked objects between collections of the young (700 by default)


MODELS = f"{CDK}.models"
SERIALIZERS = f"{MODELS}.airbyte_protocol_serializers"


def import_cdk_lightly() -> None:
    if CDK in sys.modules:
        return
    _serializers_without_docs()
    if _register_unrun(CDK) is None:
        return  # not an installed package: imported the usual way, or not at all
    for package in ("serpyco_rs", "pydantic"):
        if package not in sys.modules:
            _register_unrun(package)
    models = _register_unrun(MODELS)
    if models is not None:
        models.__getattr__ = _model_resolver(models)  # type: ignore[method-assign]


def _register_unrun(name: str) -> ModuleType | None:
    """The package, in ``sys.modules`` without its ``__init__`` run: the first use of a name of its own runs it, once,
    in place (a submodule being imported is found without running it)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return None
    package = importlib.util.module_from_spec(spec)

    def whole_package(attribute: str) -> Any:
        submodule = sys.modules.get(f"{name}.{attribute}")
        if submodule is not None:  # being imported (``import airbyte_cdk.a.b as c`` looks it up here)
            return submodule
        if attribute.startswith("__") and attribute != "__all__":
            raise AttributeError(attribute)
        return _run_whole(package, attribute)

    package.__getattr__ = whole_package  # type: ignore[method-assign]  # PEP 562
    sys.modules[name] = package
    return package


def _run_whole(package: ModuleType, attribute: str) -> Any:
    package.__dict__.pop("__getattr__", None)
    assert package.__spec__ is not None and package.__spec__.loader is not None
    package.__spec__.loader.exec_module(package)
    return getattr(package, attribute)


def _model_resolver(models: ModuleType) -> Callable[[str], Any]:
    """``airbyte_cdk.models``' names without its ``__init__``: the protocol's classes from ``airbyte_protocol``, each
    ``...Serializer`` as a stand-in built on first use; anything else runs the ``__init__``."""
    unrun = models.__getattr__

    def resolve(attribute: str) -> Any:
        if attribute.endswith("Serializer") and not attribute.startswith("_"):
            found: Any = _DeferredSerializer(attribute)
        else:
            protocol = _load(f"{MODELS}.airbyte_protocol")
            found = getattr(protocol, attribute, None) if not attribute.startswith("_") else None
            if found is None:
                return unrun(attribute)
        setattr(models, attribute, found)
        return found

    return resolve


def _load(name: str) -> ModuleType:
    """The module, imported by the import statement's own path (``-X importtime`` reports it; importlib's does not)."""
    __import__(name)
    return sys.modules[name]


class _DeferredSerializer:
    """One of the CDK's protocol serializers: ``protocol`` dumps and loads as it does; the real serializer (serpyco-rs
    imported whole) is built the first time ``protocol`` leaves a value to it, or anything else of it is used."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._built: Any = None

    def dump(self, value: Any) -> Any:
        from source_twilio import protocol

        return protocol.dump(value)

    def load(self, value: Any) -> Any:
        from source_twilio import protocol

        model = getattr(_load(f"{MODELS}.airbyte_protocol"), self._name.removesuffix("Serializer"))
        try:
            return protocol.load(model, value)
        except protocol.NotPlain:
            return self._real.load(value)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._real, attribute)

    @property
    def _real(self) -> Any:
        if self._built is None:
            self._built = getattr(_load(SERIALIZERS), self._name)
        return self._built


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
