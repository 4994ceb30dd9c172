"""Every port of the package has an in-memory fake in tests/fakes with the same methods (or a
stated reason not to), and ports.py lists every port."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Protocol

import secureface
from secureface import ports
from tests import fakes

#: port → its fake in tests/fakes (None: a stated exception in ports.py's table).
FAKES: dict[str, str | None] = {
    "ObjectStore": "MemoryStore",
    "Signer": "LocalSigner",
    "AuditLog": "MemoryAudit",
    "DataKeyProvider": "PlainDataKeys",
    "SessionStore": "MemorySessions",
    "TransactionStore": "MemoryTransactions",
    "TemplateStore": "MemoryTemplates",
    "AttemptStore": "MemoryAttempts",
    "AcceptedStore": "MemoryAccepted",
    "InferenceModel": None,  # the real published models run in-process
    "Deployment": None,  # a deployment's fake is the doctor test's subject
}


def package_ports() -> dict[str, type]:
    found = {}
    for info in pkgutil.walk_packages(secureface.__path__, "secureface."):
        if ".adapters" in info.name or info.name.endswith(("runtime", "cli", "__main__")):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value) and value.__module__ == module.__name__
                and Protocol in value.__mro__[1:] and getattr(value, "_is_protocol", False)
            ):  # fmt: skip
                found[name] = value
    return found


def public_methods(cls: type) -> set[str]:
    return {n for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}


def test_every_port_has_a_fake_with_its_methods() -> None:
    found = package_ports()
    assert set(found) == set(FAKES)
    for port, fake_name in FAKES.items():
        if fake_name is None:
            continue
        fake = getattr(fakes, fake_name)
        missing = public_methods(found[port]) - set(dir(fake))
        assert not missing, f"{fake_name} lacks {sorted(missing)} of {port}"


def test_the_ports_table_names_every_port_and_fake() -> None:
    table = ports.__doc__ or ""
    for port, fake in FAKES.items():
        assert re.search(rf"``(?:[a-z_.]+\.)?{port}``", table), port
        assert fake is None or f"``{fake}``" in table, fake
