"""The request log's read side: the filtered, searched, paged query (query.py) and the CSV
export's stream (export.py). The dashboard's log views render what these return."""
