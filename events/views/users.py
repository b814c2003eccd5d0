"""Users, for admins: list with roles, create with a role and an initial password, change the
role, set a new password, sign out every session, deactivate and reactivate. Users are never
deleted: their deliveries and audit entries keep pointing at them."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from events import accounts, audit
from events.accounts import lockout as login_lockout
from events.forms.users import RoleForm, SetPasswordForm, UserCreateForm
from events.roles import assign_role, role_of
from events.views.common import confirmed

User = get_user_model()


def _user(request, pk: int):
    return get_object_or_404(User, pk=pk)


def _refuse_self(request, user, what: str) -> bool:
    """An admin who locks themself out needs another admin to get back in: refuse it."""
    if user.pk == request.user.pk:
        messages.error(request, f"You cannot {what} yourself; ask another admin.")
        return True
    return False


@require_GET
@permission_required("auth.view_user", raise_exception=True)
def user_list(request):
    users = [(user, role_of(user)) for user in User.objects.order_by("-is_active", "username")]
    locked = login_lockout.locked_usernames([user.username for user, _ in users])
    context = {
        "users": users,
        "locked": locked,
        "locked_addresses": login_lockout.locked_addresses(),
        "window_minutes": settings.LOGIN_FAILURE_WINDOW // 60,
    }
    return render(request, "events/manage/users.html", context)


@require_http_methods(["GET", "POST"])
@permission_required("auth.add_user", raise_exception=True)
def user_create(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            assign_role(user, form.cleaned_data["role"])
            audit.record_change(
                request.user,
                "user.created",
                user,
                {"username": user.username, "email": user.email, "role": form.cleaned_data["role"]},
            )
        messages.success(
            request,
            f"Created {user.username} as {form.cleaned_data['role']}. Give them the initial password in person.",
        )
        return redirect("users")
    return render(request, "events/manage/user_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@permission_required("auth.change_user", raise_exception=True)
def user_edit(request, pk: int):
    user = _user(request, pk)
    role = role_of(user)
    form = RoleForm(request.POST or None, initial={"role": role})
    if request.method == "POST" and form.is_valid():
        new_role = form.cleaned_data["role"]
        if _refuse_self(request, user, "change the role of"):
            return redirect("user_edit", user.pk)
        if user.is_superuser:
            messages.error(
                request,
                f"{user.username} is a superuser, an admin whatever the role; change that in the Django admin.",
            )
            return redirect("user_edit", user.pk)
        if new_role != role:
            assign_role(user, new_role)
            audit.record_change(request.user, "user.role_changed", user, {"role": [role, new_role]})
            messages.success(request, f"{user.username} is now {new_role}.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("users")
    return render(request, "events/manage/user_edit.html", {"form": form, "person": user, "role": role})


@require_POST
@permission_required("auth.change_user", raise_exception=True)
def user_set_active(request, pk: int, active: bool):
    user = _user(request, pk)
    if not active and _refuse_self(request, user, "deactivate"):
        return redirect("users")
    if not active and not confirmed(request, f"deactivate {user.username}"):
        return redirect("users")
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit.record_change(
            request.user,
            f"user.{'reactivated' if active else 'deactivated'}",
            user,
            {"is_active": [not active, active]},
        )
    if active:
        messages.success(request, f"Reactivated {user.username}: they can log in again.")
    else:
        messages.success(
            request, f"Deactivated {user.username}: they can no longer log in. Nothing of theirs was deleted."
        )
    return redirect("users")


@require_http_methods(["GET", "POST"])
@permission_required("auth.change_user", raise_exception=True)
def user_password(request, pk: int):
    """A new password for someone who forgot theirs; their sessions end with the old password."""
    user = _user(request, pk)
    if user.pk == request.user.pk:
        return redirect("password_change")  # one's own: with the current password, like everyone
    if user.is_superuser and not request.user.is_superuser:
        messages.error(request, f"{user.username} is a superuser; only a superuser sets their password.")
        return redirect("users")
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        audit.record_change(request.user, "user.password_set", user)
        messages.success(
            request,
            f"Set a new password for {user.username}; their sessions are signed out. Give it to them in person.",
        )
        return redirect("users")
    return render(request, "events/manage/user_password.html", {"form": form, "person": user})


@require_POST
@permission_required("auth.change_user", raise_exception=True)
def user_sign_out(request, pk: int):
    """Every session of the user ends (a lost laptop, a shared browser); this one stays if it is theirs."""
    user = _user(request, pk)
    if not confirmed(request, f"sign {user.username} out everywhere"):
        return redirect("users")
    ended = accounts.end_sessions(user, keep=request.session.session_key)
    audit.record_change(request.user, "user.signed_out", user, {"sessions": ended})
    messages.success(request, f"Signed {user.username} out of {ended} session{'s' if ended != 1 else ''}.")
    return redirect("users")


@require_POST
@permission_required("auth.change_user", raise_exception=True)
def user_unlock(request, pk: int):
    """Forget the user's failed sign-ins, so the right password works again at once."""
    user = _user(request, pk)
    if login_lockout.unlock(user.username):
        audit.record_change(request.user, "user.unlocked", user)
    messages.success(request, f"Unlocked {user.username}: they can sign in again now.")
    return redirect("users")


@require_POST
@permission_required("auth.change_user", raise_exception=True)
def address_unlock(request):
    """Forget an address's failed sign-ins (a whole office behind one proxy, locked out)."""
    address = request.POST.get("address", "").strip()
    if not login_lockout.is_address(address):
        messages.error(request, "Nothing changed: that is not an IP address.")
        return redirect("users")
    if not confirmed(request, f"unlock the address {address}"):
        return redirect("users")
    locked = next((a for a in login_lockout.locked_addresses() if a.address == address), None)
    forgotten = login_lockout.unlock_address(address)  # attempt rows of the address, not failures
    if forgotten:
        what = locked or login_lockout.LockedAddress(address, 0, timezone.now())
        failures = locked.failures if locked else "below the limit"
        audit.record_change(request.user, "address.unlocked", what, {"failures": failures}, object_id=address)
    messages.success(request, f"Unlocked {address}: sign-ins from it work again now.")
    return redirect("users")
