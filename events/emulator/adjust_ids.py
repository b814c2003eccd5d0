"""Adjust's device identifiers (mmp-apis.md §1.4): which parameters they are, their formats,
and the platform they imply."""

import re

UUID_UPPER = r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"
UUID_LOWER = UUID_UPPER.replace("A-F", "a-f")
UUID_ANY = UUID_UPPER.replace("A-F", "A-Fa-f")
MD5_LOWER, MD5_UPPER = r"[0-9a-f]{32}", r"[0-9A-F]{32}"
SHA1_LOWER, SHA1_UPPER = r"[0-9a-f]{40}", r"[0-9A-F]{40}"

# Parameter -> the format Adjust documents for it (case and hyphens).
FORMATS: dict[str, str] = {
    "idfa": UUID_UPPER,
    "idfa_short": r"[0-9A-Fa-f]{32}",
    "idfa_lower_md5": MD5_LOWER,
    "idfa_lower_sha1": SHA1_LOWER,
    "idfa_upper_md5": MD5_UPPER,
    "idfa_upper_sha1": SHA1_UPPER,
    "idfv": UUID_UPPER,
    "gps_adid": UUID_LOWER,
    "gps_adid_lower_md5": MD5_LOWER,
    "gps_adid_lower_sha1": SHA1_LOWER,
    "gps_adid_upper_md5": MD5_UPPER,
    "gps_adid_upper_sha1": SHA1_UPPER,
    "fire_adid": UUID_LOWER,
    "oaid": r"[0-9a-f-]{16,64}",
    "oaid_lower_md5": MD5_LOWER,
    "win_adid": r"[0-9A-Fa-f]{32}",
    "android_id": r"[0-9a-f]{8,16}",
    "android_id_lower_md5": MD5_LOWER,
    "android_id_lower_sha1": SHA1_LOWER,
    "android_id_upper_md5": MD5_UPPER,
    "android_id_upper_sha1": SHA1_UPPER,
    "imei": r"[0-9]{14,16}",
    "imei_lower_md5": MD5_LOWER,
    "meid": r"[0-9A-F]{14}",
    "win_naid": r"[0-9a-f-]+",
    "win_hwid": r"[0-9A-Za-z]+",
    "adid": r"[0-9a-f]{32}",
    "web_uuid": UUID_LOWER,
    "primary_dedupe_token": UUID_LOWER,
    "google_app_set_id": UUID_ANY,
    "persistent_ios_uuid": UUID_ANY,
    "external_device_id": r".{1,255}",
    "vida": r".{1,255}",
    "rida": r".{1,255}",
    "tifa": r".{1,255}",
}
DEVICE_ID_PARAMS = tuple(FORMATS)
_COMPILED = {kind: re.compile(f"^{pattern}$") for kind, pattern in FORMATS.items()}
# An advertising id the user withheld (ATT denied, ad tracking limited): it names no device.
ZEROS = re.compile(r"^[0-]+$")

# UNCONFIRMED: the platform of a request, for "Tracking disabled", is os_name when sent, else
# implied by the identifier types.
IOS_IDS = ("idfa", "idfv", "persistent_ios_uuid")
ANDROID_IDS = ("gps_adid", "android_id", "fire_adid", "oaid", "imei", "meid", "google_app_set_id")
WINDOWS_IDS = ("win_adid", "win_naid", "win_hwid")
OS_NAME_PLATFORMS = {"android-tv": "android", "fire-tv": "android", "apple-tv": "ios"}


def device_ids(params: dict[str, str]) -> dict[str, str]:
    return {kind: params[kind] for kind in DEVICE_ID_PARAMS if params.get(kind)}


def well_formed(kind: str, value: str) -> bool:
    return bool(_COMPILED[kind].match(value)) and not ZEROS.match(value)


def platform_of(params: dict[str, str], ids: dict[str, str]) -> str | None:
    if params.get("os_name"):
        return OS_NAME_PLATFORMS.get(params["os_name"], params["os_name"])
    for platform, kinds in (("ios", IOS_IDS), ("android", ANDROID_IDS), ("windows", WINDOWS_IDS)):
        if any(kind.startswith(prefix) for kind in ids for prefix in kinds):
            return platform
    if "web_uuid" in ids:
        return "web"
    return None
