"""Adjust's device identifiers (mmp-apis.md §1.4): the format of each and the platforms it belongs to.

The table's order is the order of preference: the first id an event carries is the one the log
indexes, and ids go on the wire in this order.
"""

import re
from dataclasses import dataclass

from events.choices import Platform

IOS = frozenset({Platform.IOS})
# Adjust has one Android platform: the store an s2sadmin app is published in (Google Play, Amazon,
# others) does not change which ids Adjust's Android SDK collects (a Huawei device has an OAID, a
# Fire tablet a Fire ad id, either may run a Play build), so the whole family shares its ids.
ANDROID = frozenset({Platform.ANDROID, Platform.AMAZON, Platform.ANDROID_OTHER})
WINDOWS = frozenset({Platform.WINDOWS})
WEB = frozenset({Platform.WEB})
EVERY_PLATFORM = frozenset(Platform)
# "Any unique string, for PC/console/CTV": of s2sadmin's platforms, Windows and the web.
NON_MOBILE = WINDOWS | WEB

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
UUID_UPPER = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}")
UUID_LOWER = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
UUID_ANY_CASE = re.compile(_UUID)
# UNCONFIRMED: Adjust documents only the case and hyphens of the ids before hashing
# ("lowercase/uppercase, MD5"), not the case of the hex digest itself: accept either case.
MD5 = re.compile(r"[0-9a-fA-F]{32}")
SHA1 = re.compile(r"[0-9a-fA-F]{40}")
# UNCONFIRMED: "without hyphens" is all Adjust says about idfa_short and win_adid; either case.
HEX32_ANY_CASE = re.compile(r"[0-9a-fA-F]{32}")
LOWER_HEX_WITH_HYPHENS = re.compile(r"[0-9a-f]+(-[0-9a-f]+)+")
FREE_TEXT = re.compile(r"\S(.{0,253}\S)?")

MD5_RULE = "an MD5 hex digest (32 hex characters)"
MD5_EXAMPLE = "9e107d9d372bb6826bd81d3542a419d6"
SHA1_RULE = "a SHA1 hex digest (40 hex characters)"
SHA1_EXAMPLE = "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"


@dataclass(frozen=True)
class DeviceIdType:
    name: str
    platforms: frozenset[str]
    pattern: re.Pattern[str]
    # Completes "<name> must be ...": the documented format, in words.
    rule: str
    example: str

    def problem(self, value: str) -> str | None:
        if self.pattern.fullmatch(value):
            return None
        return f"{self.name} must be {self.rule}, like {self.example}."


def _hashed(name: str, platforms: frozenset[str]) -> DeviceIdType:
    if name.endswith("_md5"):
        return DeviceIdType(name, platforms, MD5, MD5_RULE, MD5_EXAMPLE)
    return DeviceIdType(name, platforms, SHA1, SHA1_RULE, SHA1_EXAMPLE)


# Adjust documents case and hyphens; the lengths of android_id (64 bits: up to 16 hex characters),
# imei (15 digits, 16 as IMEISV) and meid (14 hex, 15 with its check digit) come from those ids' own
# definitions, loosened where real values vary.
DEVICE_ID_TYPES: tuple[DeviceIdType, ...] = (
    # Preferred (§1.4), plus the Windows advertising id, which plays the same part on Windows.
    DeviceIdType("idfa", IOS, UUID_UPPER, "uppercase with hyphens", "D2CADB5F-410F-4963-AC0C-2A78534BDF1E"),
    DeviceIdType(
        "gps_adid", ANDROID, UUID_LOWER, "lowercase with hyphens", "660e1d86-6796-463a-be86-897993136018"
    ),
    DeviceIdType(
        "fire_adid", ANDROID, UUID_LOWER, "lowercase with hyphens", "df07c7dc-cea7-4a89-b328-810ff5acb15d"
    ),
    DeviceIdType(
        "oaid",
        ANDROID,
        LOWER_HEX_WITH_HYPHENS,
        "lowercase hex with hyphens",
        "b3a2f1e0-7c6d-4e5f-8a9b-0c1d2e3f4a5b",
    ),
    DeviceIdType(
        "win_adid",
        WINDOWS,
        HEX32_ANY_CASE,
        "32 hex characters without hyphens",
        "6c8b0e7f2a1d4e3f9b5c7d8e0f1a2b3c",
    ),
    DeviceIdType(
        "web_uuid", WEB, UUID_LOWER, "a lowercase UUID with hyphens", "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    ),
    # Backups (§1.4).
    DeviceIdType("idfv", IOS, UUID_UPPER, "uppercase with hyphens", "8A3CB124-5A79-4334-8802-F75FEC099C58"),
    DeviceIdType(
        "android_id",
        ANDROID,
        re.compile(r"[0-9a-f]{1,16}"),
        "lowercase hex without hyphens (up to 16 characters)",
        "9774d56d682e549c",
    ),
    DeviceIdType(
        "adid",
        EVERY_PLATFORM,
        re.compile(r"[0-9a-f]{32}"),
        "32 lowercase hex characters",
        "18546f6171f67e29d1cb983322ad1329",
    ),
    # The rest, in the order of Adjust's tables.
    DeviceIdType(
        "idfa_short",
        IOS,
        HEX32_ANY_CASE,
        "the IDFA without hyphens (32 hex characters)",
        "D2CADB5F410F4963AC0C2A78534BDF1E",
    ),
    _hashed("idfa_lower_md5", IOS),
    _hashed("idfa_lower_sha1", IOS),
    _hashed("idfa_upper_md5", IOS),
    _hashed("idfa_upper_sha1", IOS),
    _hashed("gps_adid_lower_md5", ANDROID),
    _hashed("gps_adid_lower_sha1", ANDROID),
    _hashed("gps_adid_upper_md5", ANDROID),
    _hashed("gps_adid_upper_sha1", ANDROID),
    _hashed("oaid_lower_md5", ANDROID),
    _hashed("android_id_lower_md5", ANDROID),
    _hashed("android_id_lower_sha1", ANDROID),
    _hashed("android_id_upper_md5", ANDROID),
    _hashed("android_id_upper_sha1", ANDROID),
    DeviceIdType(
        "imei", ANDROID, re.compile(r"[0-9]{14,16}"), "14 to 16 digits without hyphens", "490154203237518"
    ),
    _hashed("imei_lower_md5", ANDROID),
    DeviceIdType(
        "meid",
        ANDROID,
        re.compile(r"[0-9A-F]{14,15}"),
        "14 uppercase hex characters without hyphens",
        "A0000038AF4B21",
    ),
    DeviceIdType(
        "win_naid",
        WINDOWS,
        LOWER_HEX_WITH_HYPHENS,
        "lowercase hex with hyphens",
        "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    ),
    DeviceIdType(
        "win_hwid",
        WINDOWS,
        re.compile(r"[^\s-]{1,255}"),
        "the hardware id without hyphens or spaces",
        "0300A3A40300BC3E05003FC2",
    ),
    DeviceIdType(
        "primary_dedupe_token",
        IOS,
        UUID_LOWER,
        "a lowercase UUID with hyphens",
        "3e1a5f3c-9b0d-4c7a-8f2e-6d4b1a0c9e7f",
    ),
    DeviceIdType(
        "google_app_set_id",
        ANDROID,
        FREE_TEXT,
        "the App Set ID as the Play services return it",
        "a7f3b1c2-5d4e-4f6a-8b9c-0d1e2f3a4b5c",
    ),
    DeviceIdType(
        "external_device_id", NON_MOBILE, FREE_TEXT, "a text of at most 255 characters", "console-7f3a9c"
    ),
    DeviceIdType(
        "persistent_ios_uuid",
        IOS,
        UUID_ANY_CASE,
        "a UUID with hyphens",
        "5B6C0E2A-1F3D-4A8B-9C7E-2D4F6A8B0C1E",
    ),
)

BY_NAME: dict[str, DeviceIdType] = {id_type.name: id_type for id_type in DEVICE_ID_TYPES}


def names_for(platform: str) -> list[str]:
    return [id_type.name for id_type in DEVICE_ID_TYPES if platform in id_type.platforms]


def platform_label(platform: str) -> str:
    try:
        return str(Platform(platform).label)
    except ValueError:
        return platform


def platforms_label(platforms: frozenset[str]) -> str:
    return " / ".join(platform_label(p) for p in Platform if p in platforms)


WEB_UUID_WARNING = (
    "Adjust staff said web_uuid is probably not supported for S2S; expect Device not found "
    "unless another device id matches."
)
