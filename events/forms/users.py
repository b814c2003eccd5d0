"""Creating users with a role and an initial password, and changing a user's role."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import UserCreationForm

from events.roles import ROLES

ROLE_CHOICES = [(role, role.capitalize()) for role in ROLES]
ROLE_HELP = (
    "Admin: users, apps, tokens and the audit trail. Marketer: sends test events and reads the log. "
    "Viewer: reads the log and the overview."
)


class UserCreateForm(UserCreationForm):
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="viewer", help_text=ROLE_HELP)

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django's help text here is HTML; ours renders escaped, so give it as plain sentences.
        self.fields["password1"].help_text = " ".join(password_validation.password_validators_help_texts())
        self.fields["password1"].label = "Initial password"
        self.fields["password2"].label = "Initial password, again"


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, help_text=ROLE_HELP)


class SetPasswordForm(auth_forms.SetPasswordForm):
    """Django's form for an admin setting someone's password, its help as plain sentences."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = " ".join(
            password_validation.password_validators_help_texts()
        )
