"""A local Twilio REST API emulator for tests and benchmarks (standard library only).

    from integration_tests.emulator import Dataset, DatasetOptions, Faults, Item, serve

    ds = Dataset(DatasetOptions(seed=1, subaccounts=2, suspended_subaccounts=1))
    with serve(ds, faults=Faults(rate_429=0.1)) as emulator:
        ...  # point the client at emulator.url with ds.credentials
    ds.items("messages")  # what the emulator holds, to compare with what a client read
    ds.mutate()           # new and changed records "now", for incremental syncs
    ds.mutate(visible_after=60); ds.reveal()  # ... listed only a minute later (eventual consistency)

Product hosts: ``emulated_base(emulator.url, "https://studio.twilio.com")`` is where studio.twilio.com is served.

Run it as a process with ``python -m integration_tests.emulator --help``.
"""

from .data import STREAMS, Dataset, DatasetOptions
from .faults import Faults, PersistentFault
from .generate_products import ProductOptions
from .products import PRODUCT_STREAMS, emulated_base
from .server import Emulator, serve
from .store import Item

__all__ = [
    "PRODUCT_STREAMS",
    "STREAMS",
    "Dataset",
    "DatasetOptions",
    "Emulator",
    "Faults",
    "Item",
    "PersistentFault",
    "ProductOptions",
    "emulated_base",
    "serve",
]
