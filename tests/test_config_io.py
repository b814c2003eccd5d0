"""export_config / import_config: secrets out unless asked; a bad file changes nothing."""

import json

import pytest
from django.core.management import CommandError, call_command

from events.models import App, AuditEntry, EventToken, SecurityToken
from tests.conftest import ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN, TENJIN_SDK_KEY

pytestmark = pytest.mark.django_db


def export(capsys, *flags) -> dict:
    call_command("export_config", *flags)
    return json.loads(capsys.readouterr().out)


def write(tmp_path, data) -> str:
    path = tmp_path / "config.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_the_export_leaves_secrets_out(capsys, adjust_app, adjust_security_token, tenjin_app):
    call_command("export_config")
    out = capsys.readouterr().out
    for secret in (ADJUST_APP_TOKEN, ADJUST_SECURITY_TOKEN, TENJIN_SDK_KEY):
        assert secret not in out
    data = json.loads(out)
    assert [a["name"] for a in data["apps"]] == ["Demo Adjust iOS", "Demo Tenjin Android"]
    assert data["apps"][0]["security_tokens"] == [{"label": "primary", "active": True}]
    assert {t["token"] for t in data["apps"][0]["event_tokens"]} == {"f0ob4r", "2y7e81"}


def test_the_export_includes_secrets_only_when_asked(capsys, adjust_app, adjust_security_token):
    data = export(capsys, "--include-secrets")
    assert data["apps"][0]["app_key"] == ADJUST_APP_TOKEN
    assert data["apps"][0]["security_tokens"][0]["value"] == ADJUST_SECURITY_TOKEN


def test_an_export_with_secrets_imports_into_an_empty_database(
    capsys, tmp_path, adjust_app, adjust_security_token, tenjin_app
):
    data = export(capsys, "--include-secrets")
    App.objects.all().delete()
    call_command("import_config", write(tmp_path, data))
    assert "Imported" in capsys.readouterr().out
    app = App.objects.get(name="Demo Adjust iOS")
    assert app.app_key == ADJUST_APP_TOKEN
    assert app.security_tokens.get().value == ADJUST_SECURITY_TOKEN
    assert set(app.event_tokens.values_list("token", flat=True)) == {"f0ob4r", "2y7e81"}
    assert App.objects.get(name="Demo Tenjin Android").event_tokens.get(token="purchase").kind == "purchase"


def test_an_export_without_secrets_updates_existing_apps_and_keeps_their_secrets(
    capsys, tmp_path, adjust_app, adjust_security_token
):
    data = export(capsys)
    data["apps"][0]["bundle_id"] = "com.example.renamed"
    data["apps"][0]["event_tokens"].append({"name": "Level", "token": "abc123"})
    call_command("import_config", write(tmp_path, data))
    adjust_app.refresh_from_db()
    assert adjust_app.bundle_id == "com.example.renamed"
    assert adjust_app.app_key == ADJUST_APP_TOKEN
    assert SecurityToken.objects.get().value == ADJUST_SECURITY_TOKEN
    assert EventToken.objects.filter(app=adjust_app, token="abc123").exists()
    # Every change is audited, by "(system)", and nothing that stayed the same.
    entries = sorted(AuditEntry.objects.values_list("action", "actor_name", "changes"))
    assert entries == [
        (
            "app.updated",
            "",
            {"bundle_id": ["com.example.demo", "com.example.renamed"], "via": "import_config"},
        ),
        ("event_token.created", "", {"name": "Level", "kind": "event", "via": "import_config"}),
    ]


def test_an_api_key_made_on_the_command_line_is_audited(capsys, adjust_app):
    call_command("create_api_key", "backend", "--app", adjust_app.name)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_name, entry.changes["via"]) == ("api_key.created", "", "create_api_key")
    assert entry.changes["prefix"] in capsys.readouterr().out


def test_a_file_with_any_problem_changes_nothing_and_names_each_problem(capsys, tmp_path, adjust_app):
    data = export(capsys)
    data["apps"][0]["bundle_id"] = "com.example.changed"
    data["apps"].append({"name": "New app", "provider": "branch", "platform": "ios"})
    data["apps"].append({"name": "Other", "provider": "tenjin", "platform": "android", "app_key": "K" * 32,
                         "default_environment": "sandbox", "event_tokens": [{"token": "a"}, {"token": "a"}]})  # fmt: skip
    with pytest.raises(CommandError) as caught:
        call_command("import_config", write(tmp_path, data))
    message = str(caught.value)
    assert "nothing changed" in message
    assert "apps[1] ('New app'): a new app needs its app_key" in message
    assert (
        "apps[1] ('New app'): provider must be one of ['adjust', 'tenjin', 'appsflyer', 'singular'], not 'branch'"
        in message
    )
    assert "apps[2] ('Other'): Tenjin has no sandbox" in message
    assert "apps[2] ('Other').event_tokens[1]: token 'a' appears twice" in message
    adjust_app.refresh_from_db()
    assert adjust_app.bundle_id == "com.example.demo"
    assert App.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "{not json",
            "Not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2",
        ),
        ("[]", "The top level must be a JSON object"),
        ('{"version": 1, "apps": {}}', "'apps' must be a list"),
        ('{"version": 2, "apps": []}', "version must be 1 (got 2)"),
        ('{"version": 1, "apps": [1]}', "apps[0]: must be an object"),
    ],
)
def test_a_malformed_file_gets_a_specific_error(tmp_path, content, expected):
    with pytest.raises(CommandError) as caught:
        call_command("import_config", write(tmp_path, content))
    assert expected in str(caught.value)


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(b'{"version": 1, "apps": ["\xff"]}')
    with pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_config", str(path))


def test_a_missing_file_is_refused_plainly(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.json: No such file or directory"):
        call_command("import_config", str(tmp_path / "missing.json"))


def test_a_nul_character_is_refused_before_anything_is_written(tmp_path):
    content = '{"version": 1, "apps": [{"name": "A\\u0000", "provider": "adjust", "platform": "ios", "app_key": "abc"}]}'
    with pytest.raises(CommandError, match="NUL character"):
        call_command("import_config", write(tmp_path, content))
    assert App.objects.count() == 0


def test_archived_tokens_stay_archived_through_an_export_and_import(capsys, tmp_path, adjust_app):
    EventToken.objects.filter(token="2y7e81").update(archived_at="2026-01-01T00:00:00Z")
    data = export(capsys, "--include-secrets")
    EventToken.objects.filter(token="2y7e81").update(archived_at=None)  # restored since the export
    call_command("import_config", write(tmp_path, data))
    archived = {token.token: token.archived for token in EventToken.objects.all()}
    assert archived == {"f0ob4r": False, "2y7e81": True}  # archived again, as the file says


def test_a_token_archived_in_the_file_is_archived_and_false_restores_it(tmp_path, adjust_app):
    entry = {"name": adjust_app.name, "provider": "adjust", "platform": "ios"}
    tokens = [{"token": "f0ob4r", "archived": True}, {"token": "newtok", "archived": False}]
    call_command(
        "import_config", write(tmp_path, {"version": 1, "apps": [{**entry, "event_tokens": tokens}]})
    )
    assert EventToken.objects.get(token="f0ob4r").archived
    assert not EventToken.objects.get(token="newtok").archived
    tokens = [{"token": "f0ob4r", "archived": False}]
    call_command(
        "import_config", write(tmp_path, {"version": 1, "apps": [{**entry, "event_tokens": tokens}]})
    )
    assert not EventToken.objects.get(token="f0ob4r").archived
