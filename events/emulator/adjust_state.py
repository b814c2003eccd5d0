"""What Adjust remembers about devices: installs, opt-outs, and per event token the last event
time and whether a unique event was seen (mmp-apis.md §5.1 steps 13-15)."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from events.emulator.adjust_ids import well_formed
from events.emulator.models import EmuAdjustApp, EmuAdjustDevice, EmuAdjustDeviceId, EmuAdjustEventState
from events.emulator.models import EmuAdjustEventToken as EventToken

MAX_EVENT_AGE = timedelta(days=58)
# A device the emulator installs on first sight is old enough that no accepted event predates it.
LENIENT_INSTALL_AGE = timedelta(days=365)


def find_device(app: EmuAdjustApp, ids: dict[str, str]) -> EmuAdjustDevice | None:
    """The app's device with any of these identifiers (the oldest, if several match)."""
    if not ids:
        return None
    any_id = Q()
    for kind, value in ids.items():
        any_id |= Q(kind=kind, value=value)
    row = (
        EmuAdjustDeviceId.objects.filter(any_id, app=app)
        .select_related("device")
        .order_by("device_id")
        .first()
    )
    return row.device if row else None


def install_device(
    app: EmuAdjustApp, ids: dict[str, str], *, installed_at: datetime, opted_out: bool = False
) -> EmuAdjustDevice:
    """A new device with these identifiers, or the one a concurrent request created first."""
    with transaction.atomic():
        device = EmuAdjustDevice.objects.create(app=app, installed_at=installed_at, opted_out=opted_out)
        EmuAdjustDeviceId.objects.bulk_create(
            [EmuAdjustDeviceId(app=app, device=device, kind=k, value=v) for k, v in ids.items()],
            ignore_conflicts=True,
        )
        winner = find_device(app, ids)
        if winner is not None and winner.pk != device.pk:
            device.delete()
            return winner
    return device


def forget_device(app: EmuAdjustApp, ids: dict[str, str], *, now: datetime) -> EmuAdjustDevice:
    """Opt the device out for good; an unknown one is remembered as opted out, since Adjust
    "will no longer receive data from this device"."""
    device = find_device(app, ids)
    if device is None:
        return install_device(app, ids, installed_at=now - LENIENT_INSTALL_AGE, opted_out=True)
    EmuAdjustDevice.objects.filter(pk=device.pk).update(opted_out=True)
    device.opted_out = True
    return device


def resolve_device(
    app: EmuAdjustApp, ids: dict[str, str], *, now: datetime, commit: bool
) -> EmuAdjustDevice | None:
    device = find_device(app, ids)
    if device or not app.lenient_devices:
        return device
    usable = {kind: value for kind, value in ids.items() if well_formed(kind, value)}
    if not usable:
        # UNCONFIRMED: a malformed id most likely matches no device at Adjust.
        return None
    installed_at = now - LENIENT_INSTALL_AGE
    if not commit:
        return EmuAdjustDevice(app=app, installed_at=installed_at)
    return install_device(app, usable, installed_at=installed_at)


def state_problem(
    device: EmuAdjustDevice,
    event_token: EventToken,
    event_at: datetime,
    state: EmuAdjustEventState | None,
    *,
    now: datetime,
    sent_time: bool = True,
) -> str | None:
    if event_at < device.installed_at:
        return "Bad event state"
    if event_at < now - MAX_EVENT_AGE:
        return "Bad event state"  # UNCONFIRMED message; the 58-day rule is documented
    # Without a sent time the event takes the server's clock, which concurrent requests may read
    # out of order: only a time the sender chose can be "earlier".
    if sent_time and state and state.last_created_at and event_at < state.last_created_at:
        # UNCONFIRMED wording, after the Web SDK's; equal times are accepted (UNCONFIRMED).
        return "Bad event state: Ignoring duplicate event"
    if event_token.unique and state and state.unique_seen:
        return "Ignoring event, earlier unique event tracked"
    return None


def accept_event(
    device: EmuAdjustDevice,
    event_token: EventToken,
    event_at: datetime,
    *,
    now: datetime,
    commit: bool,
    record: Callable[[], object],
    sent_time: bool = True,
) -> str | None:
    """Apply the state rules; when they pass and `commit`, record and move the state on.
    Returns the rejection message, or None when accepted."""
    if device.pk is None:  # the device a dry run would have installed: no state yet
        return state_problem(device, event_token, event_at, None, now=now, sent_time=sent_time)
    if not commit:
        state = EmuAdjustEventState.objects.filter(device=device, event_token=event_token).first()
        return state_problem(device, event_token, event_at, state, now=now, sent_time=sent_time)
    with transaction.atomic():
        # The INSERT comes first so SQLite takes its write lock at once and concurrent requests
        # wait on the busy timeout (a read first could fail with "database is locked" when it
        # upgrades); on PostgreSQL the row lock below queues them.
        EmuAdjustEventState.objects.bulk_create(
            [EmuAdjustEventState(device=device, event_token=event_token)], ignore_conflicts=True
        )
        state = EmuAdjustEventState.objects.select_for_update().get(device=device, event_token=event_token)
        problem = state_problem(device, event_token, event_at, state, now=now, sent_time=sent_time)
        if problem:
            return problem
        record()
        state.last_created_at = max(event_at, state.last_created_at or event_at)
        state.unique_seen = True
        state.save(update_fields=["last_created_at", "unique_seen"])
    return None
