"""Small readers of API responses shared by the API tests."""

import csv
import io


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def json_ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]
