"""Adjust: every documented device id type, in its documented format, for its platforms."""

import json

import pytest

from events.models import Platform
from events.providers.adjust_ids import DEVICE_ID_TYPES
from tests.adjust_provider_helpers import GAID, MD5, SHA1, errors_of, validate
from tests.conftest import IDFA

# Device ids -------------------------------------------------------------------------------------

# For each id type: a value in its documented format, and one that breaks it.
ID_SAMPLES = {
    "idfa": (IDFA, IDFA.lower()),
    "gps_adid": (GAID, GAID.upper()),
    "fire_adid": ("df07c7dc-cea7-4a89-b328-810ff5acb15d", "df07c7dccea74a89b328810ff5acb15d"),
    "oaid": ("b3a2f1e0-7c6d-4e5f-8a9b-0c1d2e3f4a5b", "B3A2F1E0-7C6D-4E5F-8A9B-0C1D2E3F4A5B"),
    "win_adid": ("6c8b0e7f2a1d4e3f9b5c7d8e0f1a2b3c", "6c8b0e7f-2a1d-4e3f-9b5c-7d8e0f1a2b3c"),
    "web_uuid": ("1b4e28ba-2fa1-41d2-883f-0016d3cca427", "1B4E28BA-2FA1-41D2-883F-0016D3CCA427"),
    "idfv": ("8A3CB124-5A79-4334-8802-F75FEC099C58", "8a3cb124-5a79-4334-8802-f75fec099c58"),
    "android_id": ("9774d56d682e549c", "9774D56D682E549C"),
    "adid": ("18546f6171f67e29d1cb983322ad1329", "18546F6171F67E29D1CB983322AD1329"),
    "idfa_short": ("D2CADB5F410F4963AC0C2A78534BDF1E", IDFA),
    "idfa_lower_md5": (MD5, SHA1),
    "idfa_lower_sha1": (SHA1, MD5),
    "idfa_upper_md5": (MD5, MD5[:-1]),
    "idfa_upper_sha1": (SHA1, SHA1 + "0"),
    "gps_adid_lower_md5": (MD5, "z" * 32),
    "gps_adid_lower_sha1": (SHA1, "z" * 40),
    "gps_adid_upper_md5": (MD5, GAID),
    "gps_adid_upper_sha1": (SHA1, MD5),
    "oaid_lower_md5": (MD5, SHA1),
    "android_id_lower_md5": (MD5, SHA1),
    "android_id_lower_sha1": (SHA1, MD5),
    "android_id_upper_md5": (MD5, SHA1),
    "android_id_upper_sha1": (SHA1, MD5),
    "imei": ("490154203237518", "49-015420-323751-8"),
    "imei_lower_md5": (MD5, SHA1),
    "meid": ("A0000038AF4B21", "a0000038af4b21"),
    "win_naid": ("3f2504e0-4f89-11d3-9a0c-0305e82c3301", "3F2504E0-4F89-11D3-9A0C-0305E82C3301"),
    "win_hwid": ("0300A3A40300BC3E05003FC2", "0300-A3A4-0300-BC3E"),
    "primary_dedupe_token": ("3e1a5f3c-9b0d-4c7a-8f2e-6d4b1a0c9e7f", "3E1A5F3C-9B0D-4C7A-8F2E-6D4B1A0C9E7F"),
    "google_app_set_id": ("a7f3b1c2-5d4e-4f6a-8b9c-0d1e2f3a4b5c", "x" * 256),
    "external_device_id": ("console-7f3a9c", "x" * 256),
    "persistent_ios_uuid": ("5B6C0E2A-1F3D-4A8B-9C7E-2D4F6A8B0C1E", "5B6C0E2A1F3D4A8B9C7E2D4F6A8B0C1E"),
}


def platform_of(id_type) -> str:
    return next(platform for platform in Platform if platform in id_type.platforms)


def test_the_samples_cover_every_documented_device_id_type():
    assert set(ID_SAMPLES) == {id_type.name for id_type in DEVICE_ID_TYPES}


@pytest.mark.parametrize("id_type", DEVICE_ID_TYPES, ids=lambda t: t.name)
def test_it_accepts_each_device_id_in_its_documented_format(app_on, id_type):
    good, _ = ID_SAMPLES[id_type.name]
    valid = validate(app_on(platform_of(id_type)), {"device_ids": {id_type.name: good}})
    assert (valid.device_id_type, valid.device_id) == (id_type.name, good)
    assert valid.params[id_type.name] == good


@pytest.mark.parametrize("id_type", DEVICE_ID_TYPES, ids=lambda t: t.name)
def test_it_rejects_each_device_id_in_another_format(app_on, id_type):
    _, bad = ID_SAMPLES[id_type.name]
    errors = errors_of(app_on(platform_of(id_type)), {"device_ids": {id_type.name: bad}})
    assert errors == {id_type.name: [f"{id_type.name} must be {id_type.rule}, like {id_type.example}."]}


def test_it_says_how_an_idfa_must_look():
    idfa = next(t for t in DEVICE_ID_TYPES if t.name == "idfa")
    assert idfa.problem(IDFA.lower()) == (
        "idfa must be uppercase with hyphens, like D2CADB5F-410F-4963-AC0C-2A78534BDF1E."
    )


@pytest.mark.unconfirmed
@pytest.mark.parametrize("name", ["idfa_lower_md5", "android_id_upper_sha1"])
def test_it_accepts_a_hashed_id_in_either_case_of_hex(app_on, name):
    id_type = next(t for t in DEVICE_ID_TYPES if t.name == name)
    digest = MD5 if name.endswith("md5") else SHA1
    valid = validate(app_on(platform_of(id_type)), {"device_ids": {name: digest.upper()}})
    assert valid.params[name] == digest.upper()


@pytest.mark.unconfirmed
def test_it_accepts_idfa_short_in_lowercase(adjust_app):
    valid = validate(adjust_app, {"device_ids": {"idfa_short": "d2cadb5f410f4963ac0c2a78534bdf1e"}})
    assert valid.device_id_type == "idfa_short"


def test_it_rejects_an_idfa_on_an_android_app_naming_both_platforms(app_on):
    errors = errors_of(app_on(Platform.ANDROID), {"device_ids": {"idfa": IDFA}})
    message = errors["idfa"][0]
    assert message.startswith(
        "idfa is a device id for iOS, but 'Adjust android' is an app for Android (Google Play); "
        "use gps_adid, fire_adid, oaid,"
    )


def test_it_rejects_a_gps_adid_on_an_ios_app(adjust_app):
    assert (
        "gps_adid is a device id for Android"
        in errors_of(adjust_app, {"device_ids": {"gps_adid": GAID}})["gps_adid"][0]
    )


@pytest.mark.parametrize("platform", [Platform.ANDROID, Platform.AMAZON, Platform.ANDROID_OTHER])
def test_it_takes_the_android_ids_for_every_android_store(app_on, platform):
    ids = {
        "gps_adid": GAID,
        "fire_adid": "df07c7dc-cea7-4a89-b328-810ff5acb15d",
        "android_id": "9774d56d682e549c",
    }
    assert validate(app_on(platform), {"device_ids": ids}).device_id_type == "gps_adid"


def test_it_requires_a_device_id(adjust_app):
    assert errors_of(adjust_app, {"device_ids": {}})["device_ids"] == [
        "Give at least one device id; for iOS apps: idfa, idfv, adid, idfa_short, idfa_lower_md5, "
        "idfa_lower_sha1, idfa_upper_md5, idfa_upper_sha1, primary_dedupe_token, persistent_ios_uuid."
    ]


def test_it_requires_a_device_id_when_all_are_blank(adjust_app):
    assert (
        "Give at least one device id"
        in errors_of(adjust_app, {"device_ids": {"idfa": "  "}})["device_ids"][0]
    )


def test_it_rejects_an_unknown_device_id_type(adjust_app):
    errors = errors_of(adjust_app, {"device_ids": {"idfa": IDFA, "vida": "x"}})
    assert errors["device_ids"][0].startswith(
        "'vida' is not a device id Adjust takes; for iOS apps use idfa,"
    )


def test_it_takes_device_ids_as_json_text(adjust_app):
    assert validate(adjust_app, {"device_ids": json.dumps({"idfa": IDFA})}).device_id == IDFA


def test_it_indexes_the_preferred_id_and_sends_ids_in_preference_order(adjust_app):
    adid = "18546f6171f67e29d1cb983322ad1329"
    valid = validate(adjust_app, {"device_ids": {"adid": adid, "idfv": ID_SAMPLES["idfv"][0], "idfa": IDFA}})
    assert (valid.device_id_type, valid.device_id) == ("idfa", IDFA)
    assert list(valid.params)[:3] == ["idfa", "idfv", "adid"]


def test_it_strips_spaces_around_a_device_id(adjust_app):
    assert validate(adjust_app, {"device_ids": {"idfa": f" {IDFA}\n"}}).device_id == IDFA


def test_it_warns_that_web_uuid_is_probably_not_supported(app_on):
    valid = validate(app_on(Platform.WEB), {"device_ids": {"web_uuid": ID_SAMPLES["web_uuid"][0]}})
    assert any(
        "web_uuid is probably not supported for S2S; expect Device not found" in w for w in valid.warnings
    )
