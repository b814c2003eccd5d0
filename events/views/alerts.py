"""Alerts: open and past incidents (everyone who reads the log), acknowledging and muting them,
the channels alerts go to, and each app's rules and canary (admins)."""

from datetime import timedelta

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from events import audit
from events.forms.alerts import RULE_FIELDS, AlertChannelForm, AlertRulesForm, CanaryForm
from events.monitoring.channels import ChannelError, deliver
from events.monitoring.messages import channel_test_message, log_path
from events.monitoring.models import AlertChannel, Canary, Incident
from events.monitoring.rules import CHECKS, rules_of
from events.providers import get_provider
from events.views.apps import get_managed_app
from events.views.common import confirmed, require_perm

PAST_SHOWN = 100
MUTE_FOR = timedelta(hours=24)
CANARY_FIELDS = ["enabled", "every_minutes", "event_token", "device_id_type", "device_id"]


def get_incident_for_user(request, pk: int) -> Incident:
    require_perm(request, "events.change_incident")
    return get_object_or_404(Incident.objects.select_related("app"), pk=pk)


def get_channel_for_user(request, pk: int) -> AlertChannel:
    require_perm(request, "events.change_alertchannel")
    return get_object_or_404(AlertChannel, pk=pk)


@require_GET
def alerts(request):
    require_perm(request, "events.view_incident")
    incidents = Incident.objects.select_related("app", "acknowledged_by")
    open_incidents = list(incidents.filter(resolved_at=None))
    past = list(incidents.exclude(resolved_at=None).order_by("-resolved_at", "-id")[:PAST_SHOWN])
    for incident in [*open_incidents, *past]:
        since = incident.deliveries_since
        incident.log_url = (
            log_path(incident, timezone.localtime(since) if since else None) if incident.log_filters else ""
        )
    context = {
        "open_incidents": open_incidents,
        "past_incidents": past,
        "checks": [(check.rule.label, check.watches(None)) for check in CHECKS],
        "channel_count": AlertChannel.objects.filter(active=True).count(),
    }
    return render(request, "events/alerts/alerts.html", context)


@require_POST
def incident_acknowledge(request, pk: int):
    incident = get_incident_for_user(request, pk)
    if incident.acknowledged_at is None:
        incident.acknowledged_at, incident.acknowledged_by = timezone.now(), request.user
        incident.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit.record_change(request.user, "incident.acknowledged", incident, {"acknowledged": [False, True]})
        messages.success(request, f"Acknowledged: {incident.title}.")
    return redirect("alerts")


@require_POST
def incident_mute(request, pk: int):
    incident = get_incident_for_user(request, pk)
    if not confirmed(request, f"mute '{incident.title}'"):
        return redirect("alerts")
    until = timezone.now() + MUTE_FOR
    incident.muted_until = until
    incident.save(update_fields=["muted_until"])
    audit.record_change(
        request.user, "incident.muted", incident, {"muted_until": f"{until:%Y-%m-%d %H:%M} UTC"}
    )
    messages.success(request, f"Muted for 24 hours: {incident.title}. No messages about it until then.")
    return redirect("alerts")


@require_POST
def incident_unmute(request, pk: int):
    incident = get_incident_for_user(request, pk)
    if incident.muted_until is not None:
        Incident.objects.filter(rule=incident.rule, subject=incident.subject).update(muted_until=None)
        audit.record_change(request.user, "incident.unmuted", incident, {"muted": [True, False]})
        messages.success(request, f"Messages about '{incident.title}' go out again.")
    return redirect("alerts")


@require_GET
def channels(request):
    require_perm(request, "events.view_alertchannel")
    return render(request, "events/alerts/channels.html", {"channels": AlertChannel.objects.all()})


@require_http_methods(["GET", "POST"])
def channel_create(request):
    require_perm(request, "events.add_alertchannel")
    form = AlertChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        channel = form.save()
        changes = {"name": channel.name, "kind": channel.kind, "target": channel.target_shown}
        if channel.signing_secret:
            changes["value"] = channel.signing_secret  # masked by the audit trail
        audit.record_change(request.user, "alert_channel.created", channel, changes)
        messages.success(request, f"Added the channel '{channel.name}'. Send it a test message.")
        return redirect("alert_channels")
    return render(request, "events/alerts/channel_form.html", {"form": form})


@require_POST
def channel_test(request, pk: int):
    """Sent here and now, so the answer shows at once; alerts themselves go through jobs."""
    channel = get_channel_for_user(request, pk)
    try:
        deliver(channel, channel_test_message(channel))
    except ChannelError as exc:
        AlertChannel.objects.filter(pk=channel.pk).update(last_error=str(exc)[:2000])
        messages.error(request, f"The test message to '{channel.name}' failed: {exc}")
    else:
        AlertChannel.objects.filter(pk=channel.pk).update(last_sent_at=timezone.now(), last_error="")
        messages.success(request, f"Sent a test message to '{channel.name}'.")
    return redirect("alert_channels")


@require_POST
def channel_delete(request, pk: int):
    channel = get_channel_for_user(request, pk)
    require_perm(request, "events.delete_alertchannel")
    if not confirmed(request, f"remove the channel '{channel.name}'"):
        return redirect("alert_channels")
    pk_before = channel.pk
    channel.delete()
    audit.record_change(
        request.user, "alert_channel.deleted", channel, {"name": channel.name}, object_id=pk_before
    )
    messages.success(request, f"Removed the channel '{channel.name}': no more alerts go there.")
    return redirect("alert_channels")


@require_http_methods(["GET", "POST"])
def app_alerts(request, pk: int):
    """An app's alert rules and canary, one form each, saved together."""
    app = get_managed_app(request, pk)
    rules = rules_of(app)
    canary = Canary.objects.filter(app=app).first() or Canary(app=app)
    data = request.POST if request.method == "POST" else None
    rules_form = AlertRulesForm(data, instance=rules, prefix="rules")
    canary_form = CanaryForm(data, instance=canary, app=app, prefix="canary")
    if request.method == "POST" and rules_form.is_valid() and canary_form.is_valid():
        before_rules = audit.snapshot(rules, RULE_FIELDS) if rules.pk else {}
        before_canary = audit.snapshot(canary, CANARY_FIELDS) if canary.pk else {}
        _save(request, rules_form.save(), before_rules, RULE_FIELDS, "alert_rules")
        _save(request, canary_form.save(), before_canary, CANARY_FIELDS, "canary")
        messages.success(request, f"Saved the alerts of '{app.name}'.")
        return redirect("app_detail", app.pk)
    watches = {check.rule: check.watches(rules) for check in CHECKS}
    context = {
        "app": app,
        "mmp": get_provider(app),
        "rules_form": rules_form,
        "canary_form": canary_form,
        "watches": watches,
    }
    return render(request, "events/alerts/app_alerts.html", context)


def _save(request, obj, before: dict, fields: list[str], kind: str) -> None:
    changes = audit.diff(before, audit.snapshot(obj, fields))
    if changes:
        audit.record_change(request.user, f"{kind}.updated", obj, changes, app=obj.app)
