"""The three roles, as groups with permissions; views check permissions, never group names.

- admin: users, apps, event tokens, security tokens, the audit trail, and everything below;
- marketer: fire test events, resend, compare, read the log; sees apps and event tokens, no secret;
- viewer: reads the log and the overview.
"""

from django.contrib.auth.models import Group, Permission

ADMIN, MARKETER, VIEWER = "admin", "marketer", "viewer"
ROLES = (ADMIN, MARKETER, VIEWER)

VIEWER_PERMISSIONS = ["events.view_delivery", "events.view_attempt", "events.view_incident"]
MARKETER_PERMISSIONS = [
    *VIEWER_PERMISSIONS,
    "events.send_event",
    "events.view_app",
    "events.view_eventtoken",
]
ADMIN_PERMISSIONS = [
    *MARKETER_PERMISSIONS,
    "events.add_app",
    "events.change_app",
    "events.add_eventtoken",
    "events.change_eventtoken",
    "events.delete_eventtoken",
    "events.view_securitytoken",
    "events.add_securitytoken",
    "events.change_securitytoken",
    "events.view_auditentry",
    # Alerts: acknowledge and mute incidents, manage channels (events/monitoring/).
    "events.change_incident",
    "events.view_alertchannel",
    "events.add_alertchannel",
    "events.change_alertchannel",
    "events.delete_alertchannel",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
]
ROLE_PERMISSIONS = {VIEWER: VIEWER_PERMISSIONS, MARKETER: MARKETER_PERMISSIONS, ADMIN: ADMIN_PERMISSIONS}


def sync_roles(**kwargs) -> None:
    """Create the groups and give them exactly their permissions (runs after every migrate)."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = []
        for name in names:
            app_label, codename = name.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                permissions.append(permission)
        group.permissions.set(permissions)


def assign_role(user, role: str) -> None:
    """Make `role` the user's only role; admins also get the Django admin and queue pages."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    user.groups.set([Group.objects.get(name=role)])
    user.is_staff = role == ADMIN
    user.save(update_fields=["is_staff"])


def role_of(user) -> str | None:
    if user.is_superuser:
        return ADMIN
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in ROLES if role in names), None)
