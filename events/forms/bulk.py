"""The bulk upload form: one app and one CSV file, whose header is checked before it is stored."""

from django import forms

from events.bulk import Columns, CsvUnusable, max_bytes, read_columns
from events.models import App


class BulkUploadForm(forms.Form):
    app = forms.ModelChoiceField(
        queryset=App.objects.filter(active=True),
        empty_label="Choose an app",
        help_text="Every row goes to this app.",
    )
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, comma-separated, with a header line naming the columns.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"empty": "The file is empty: give a header line and one line per event."},
    )

    columns: Columns | None = None

    def clean(self):
        cleaned = super().clean()
        app, upload = cleaned.get("app"), cleaned.get("file")
        if app is None or upload is None:
            return cleaned
        limit = max_bytes()
        if upload.size > limit:
            self.add_error(
                "file",
                f"The file is {upload.size / 1e6:.1f} MB; upload at most {limit / 1e6:.0f} MB at a time.",
            )
            return cleaned
        try:
            self.columns = read_columns(upload, app)
        except CsvUnusable as exc:
            self.add_error("file", str(exc))
        return cleaned
