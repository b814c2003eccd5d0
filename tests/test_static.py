"""Static files: collected with hashed names and compressed copies, served by whitenoise."""

import pytest
from django.core.management import call_command


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path


def test_collectstatic_writes_hashed_and_compressed_files(collected):
    hashed = [p for p in (collected / "admin" / "css").glob("base.*.css")]
    assert len(hashed) == 1
    assert hashed[0].with_name(hashed[0].name + ".gz").exists()
    assert (collected / "staticfiles.json").exists()


def test_whitenoise_serves_a_hashed_file_compressed_with_a_long_cache_life(collected, client):
    hashed = next((collected / "admin" / "css").glob("base.*.css")).name
    response = client.get(f"/static/admin/css/{hashed}", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]
