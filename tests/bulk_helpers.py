"""What the CSV bulk send tests share: a marketer's client, the bulk jobs' worker, and the steps a
user takes (upload, check, start, read the results), with a real database, Redis and RQ worker (on
the "default" queue for the bulk jobs, "sends" for the deliveries)."""

import csv
import io

import django_rq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.engine import send_queue
from events.models import BulkSend
from tests.conftest import IDFA

# The test files take the fixtures (as_marketer, media) by `import *`, as with tests/api_fixtures.py:
# pytest finds a fixture by its name in the module, and a named import would read as unused.
__all__ = [
    "GOOD_AND_BAD",
    "State",
    "as_marketer",
    "checked",
    "many_rows",
    "media",
    "results",
    "run_bulk_jobs",
    "send_jobs",
    "sent",
    "upload",
]

State = BulkSend.State

GOOD_AND_BAD = (
    "id,event,idfa,revenue,currency,callback.order\n"
    f"o-1,f0ob4r,{IDFA},1.5,EUR,1001\n"  # line 2
    f"o-2,nope,{IDFA},,,\n"  # line 3: unknown event
    "o-3,f0ob4r,not-an-idfa,,,\n"  # line 4: bad device id
    f"o-4,Signup,{IDFA},,,1004\n"  # line 5: by the event's name
    f",2y7e81,{IDFA},2,,\n"  # line 6: revenue without currency
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def as_marketer(client_for, marketer, redis_conn):
    return client_for(marketer)


def run_bulk_jobs() -> None:
    """The bulk jobs' worker: check_bulk and queue_bulk run on the "default" queue."""
    worker = django_rq.get_worker("default")
    assert [q.name for q in worker.queues] == ["default"]
    worker.work(burst=True)


def upload(client, app, text: str | bytes, name: str = "events.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        reverse("bulk_upload"), {"app": app.pk, "file": SimpleUploadedFile(name, data, "text/csv")}
    )


def checked(client, app, text: str) -> BulkSend:
    response = upload(client, app, text)
    assert response.status_code == 302, response.content.decode()[-2000:]
    run_bulk_jobs()
    return BulkSend.objects.latest("created_at")


def sent(client, bulk: BulkSend) -> BulkSend:
    """Started as a user does: confirmed, with production's tick (an MMP without a sandbox, like
    Tenjin, takes production only)."""
    confirmation = {"confirmed": "yes", "confirm_production": "on"}
    assert client.post(reverse("bulk_start", args=[bulk.pk]), confirmation).status_code == 302
    run_bulk_jobs()
    bulk.refresh_from_db()
    return bulk


def results(client, bulk: BulkSend) -> list[dict[str, str]]:
    response = client.get(reverse("bulk_results", args=[bulk.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def send_jobs() -> int:
    """Send jobs waiting on the sends queue (a worker's maintenance may enqueue others there)."""
    return sum(job.func_name == "events.engine.jobs.send_deliveries" for job in send_queue().jobs)


def many_rows(count: int, prefix: str = "r") -> str:
    lines = ["id,event,idfa,callback.n"]
    lines += [f"{prefix}{i},f0ob4r,{IDFA},{i}" for i in range(count)]
    return "\n".join(lines) + "\n"
