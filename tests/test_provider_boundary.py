"""The contract is the only door to an MMP: nothing outside events/providers/ imports one MMP's own
module (its rules, ids, answers or times); views, forms, bulk sends and the engine ask the contract."""

from events.providers import PROVIDERS
from tests.test_emulator_faults import ROOT, imported_modules

SHARED = {"__init__", "base", "common", "answers"}
PROVIDERS_DIR = ROOT / "events" / "providers"
MMP_MODULES = {f"events.providers.{p.stem}" for p in PROVIDERS_DIR.glob("*.py") if p.stem not in SHARED}


def test_the_mmp_modules_are_found():
    assert {"events.providers.adjust", "events.providers.appsflyer_answers", "events.providers.singular"} <= (
        MMP_MODULES
    )


def test_nothing_outside_the_providers_imports_an_mmps_own_module():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for folder in ("events", "bench", "s2sadmin")
        for path in (ROOT / folder).rglob("*.py")
        if not path.is_relative_to(PROVIDERS_DIR)
        for module in imported_modules(path)
        if module in MMP_MODULES
    ]
    assert offenders == []


def test_every_provider_declares_what_the_product_asks_of_it():
    for name, provider in PROVIDERS.items():
        assert provider.name == name
        assert provider.base_url_setting.endswith("_BASE_URL"), name
        assert provider.answers, f"{name} has no answers table"
        # Every table ends with a catch-all row, so every status finds its row.
        assert provider.answers[-1].prefix is None and 599 in provider.answers[-1].status, name
