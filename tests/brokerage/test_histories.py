from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from brokerage.histories import Row, gaps, overlaps, plan_change

D = date


def spans(rows):
    return [(r.start, r.end, r.payload) for r in rows]


def test_a_change_ends_the_covering_row_the_day_before_and_opens_a_new_one():
    rows = [Row(D(2024, 4, 1), None, 1, "A")]

    plan = plan_change(rows, start=D(2024, 6, 10), payload="B")

    assert spans(plan.result) == [(D(2024, 4, 1), D(2024, 6, 9), "A"), (D(2024, 6, 10), None, "B")]
    assert plan.update == [(rows[0], D(2024, 4, 1), D(2024, 6, 9))]
    assert plan.delete == []


def test_a_backdated_change_drops_the_rows_that_start_later():
    rows = [Row(D(2024, 4, 1), D(2024, 5, 31), 1, "A"), Row(D(2024, 6, 1), None, 2, "B")]

    plan = plan_change(rows, start=D(2024, 5, 15), payload="C")

    assert spans(plan.result) == [(D(2024, 4, 1), D(2024, 5, 14), "A"), (D(2024, 5, 15), None, "C")]
    assert [r.key for r in plan.delete] == [2]


def test_a_change_on_the_first_day_of_a_row_replaces_it():
    rows = [Row(D(2024, 4, 1), None, 1, "A")]

    plan = plan_change(rows, start=D(2024, 4, 1), payload="B")

    assert spans(plan.result) == [(D(2024, 4, 1), None, "B")]
    assert [r.key for r in plan.delete] == [1]


def test_a_change_with_an_end_date_resumes_the_earlier_arrangement_the_day_after():
    rows = [Row(D(2024, 4, 1), None, 1, "50/50")]

    plan = plan_change(rows, start=D(2024, 6, 1), end=D(2024, 6, 30), payload="0/100")

    assert spans(plan.result) == [
        (D(2024, 4, 1), D(2024, 5, 31), "50/50"),
        (D(2024, 6, 1), D(2024, 6, 30), "0/100"),
        (D(2024, 7, 1), None, "50/50"),
    ]


def test_a_bounded_change_moves_the_start_of_a_row_it_overlaps_and_keeps_later_rows():
    rows = [
        Row(D(2024, 4, 1), D(2024, 5, 31), 1, "A"),
        Row(D(2024, 6, 1), D(2024, 8, 31), 2, "B"),
        Row(D(2024, 9, 1), None, 3, "C"),
    ]

    plan = plan_change(rows, start=D(2024, 5, 20), end=D(2024, 6, 15), payload="X")

    assert spans(plan.result) == [
        (D(2024, 4, 1), D(2024, 5, 19), "A"),
        (D(2024, 5, 20), D(2024, 6, 15), "X"),
        (D(2024, 6, 16), D(2024, 8, 31), "B"),
        (D(2024, 9, 1), None, "C"),
    ]


def test_a_change_before_any_row_fills_the_gap():
    rows = [Row(D(2024, 6, 1), None, 1, "A")]

    plan = plan_change(rows, start=D(2024, 4, 1), end=D(2024, 5, 31), payload="B")

    assert spans(plan.result) == [(D(2024, 4, 1), D(2024, 5, 31), "B"), (D(2024, 6, 1), None, "A")]


def test_overlaps_and_gaps_are_found():
    a = Row(D(2024, 4, 1), D(2024, 4, 30))
    b = Row(D(2024, 4, 20), D(2024, 5, 10))
    c = Row(D(2024, 6, 1), None)

    assert overlaps([a, b, c]) == [(a, b)]
    assert gaps([a, b, c], start=D(2024, 4, 1), end=None) == [(D(2024, 5, 11), D(2024, 5, 31))]
    assert gaps([a], start=D(2024, 4, 1), end=D(2024, 5, 5)) == [(D(2024, 5, 1), D(2024, 5, 5))]


START = D(2024, 4, 1)
days = st.integers(min_value=0, max_value=400)
change = st.tuples(days, st.one_of(st.none(), st.integers(min_value=0, max_value=120)), st.integers(0, 5))


@given(st.lists(change, min_size=1, max_size=12))
def test_any_sequence_of_changes_leaves_rows_that_never_overlap_and_cover_from_the_first_change(changes):
    rows: list[Row] = []
    for n, (offset, length, payload) in enumerate(changes):
        start = START + timedelta(days=offset)
        end = None if length is None else start + timedelta(days=length)
        plan = plan_change(rows, start=start, end=end, payload=payload)
        # Keys: the plan's new rows get fresh keys, as the database would give them.
        rows = [
            r if r.key is not None else Row(r.start, r.end, f"{n}-{i}", r.payload)
            for i, r in enumerate(plan.result)
        ]
        assert overlaps(rows) == []
        assert all(r.end is None or r.end >= r.start for r in rows)
        # The day the change starts (and its end) now carry the new payload.
        assert [r.payload for r in rows if r.covers(start)] == [payload]
        if end is not None:
            assert [r.payload for r in rows if r.covers(end)] == [payload]
    first = min(START + timedelta(days=o) for o, _l, _p in changes)
    assert min(r.start for r in rows) == first
