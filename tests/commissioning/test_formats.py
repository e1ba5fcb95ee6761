from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.template import engines


def render(text: str, **context) -> str:
    return engines["django"].from_string(text).render(context)


def test_a_moment_is_written_in_the_24_hour_clock_in_london_time():
    moment = datetime(2026, 12, 7, 23, 16, tzinfo=ZoneInfo("UTC"))
    summer = datetime(2026, 7, 1, 12, 5, tzinfo=ZoneInfo("UTC"))  # 13:05 in London (BST)
    shown = render("{{ m }}|{{ m|date:'SHORT_DATETIME_FORMAT' }}", m=moment)
    assert shown == "7 Dec 2026, 23:16|7 Dec 2026, 23:16"
    assert render("{{ m }}", m=summer) == "1 Jul 2026, 13:05"


def test_a_day_is_written_as_before():
    assert render("{{ d }}|{{ d|date }}", d=date(2026, 12, 7)) == "7 Dec 2026|7 Dec 2026"
