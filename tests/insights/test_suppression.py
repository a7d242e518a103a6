"""Complementary suppression, attacked: can a reader recover any hidden figure?"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refuge.insights.suppression import (
    Published,
    TableSpec,
    absent_cells,
    augmented,
    suppress,
    suppress_linked,
)
from tests.insights.attack import (
    determined_by_algebra,
    determined_by_search,
    determined_jointly,
    determined_jointly_by_search,
)

# Tables like those of the dashboards: mostly small counts, some zeros, some large ones.
counts = st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 40))


def tables(max_rows=6, max_cols=5):
    return st.integers(1, max_rows).flatmap(
        lambda r: st.integers(1, max_cols).flatmap(
            lambda c: st.lists(st.lists(counts, min_size=c, max_size=c), min_size=r, max_size=r)
        )
    )


def _check_published(cells, p: Published, threshold: int, absent=frozenset()) -> None:
    """Every shown figure is true, none is small; zeros are shown."""
    g = augmented(cells)
    r, c = len(cells), len(cells[0])
    for i in range(r + 1):
        for j in range(c + 1):
            if (i, j) in absent:
                assert p.value((i, j)) is None
                continue
            v = p.value((i, j))
            if v is None:
                assert g[i][j] > 0, "a zero was hidden"
            else:
                assert v == g[i][j]
                assert not 0 < v < threshold, f"small figure {v} published at {(i, j)}"


# --- the attack on single tables --------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(cells=tables(), threshold=st.sampled_from([3, 5, 10]))
def test_no_hidden_figure_can_be_worked_out_with_algebra(cells, threshold):
    p = suppress(cells, threshold)
    _check_published(cells, p, threshold)
    r, c = len(cells), len(cells[0])
    assert determined_by_algebra(p, r, c) == set()


@settings(max_examples=300, deadline=None)
@given(cells=tables(max_rows=3, max_cols=3), threshold=st.sampled_from([3, 5]))
def test_no_hidden_figure_can_be_found_by_trying_whole_numbers(cells, threshold):
    p = suppress(cells, threshold)
    assert determined_by_search(p, cells, set()) == set()


@settings(max_examples=200, deadline=None)
@given(cells=tables(max_rows=8, max_cols=1), threshold=st.sampled_from([3, 5]))
def test_one_column_tables_publish_only_their_total_and_still_hide_well(cells, threshold):
    p = suppress(cells, threshold, row_totals=False)
    r = len(cells)
    absent = absent_cells(r, 1, row_totals=False, col_totals=True)
    _check_published(cells, p, threshold, absent)
    assert p.row_totals is None and p.total is None
    hidden = {cell for cell in p.hidden if cell not in absent}
    assert not (determined_by_algebra(p, r, 1) & hidden)
    assert not (determined_by_search(p, cells, absent) & hidden)


@settings(max_examples=200, deadline=None)
@given(cells=tables(), threshold=st.sampled_from([3, 5]))
def test_hidden_cells_of_a_line_with_a_shown_total_add_up_to_at_least_the_threshold(
    cells, threshold
):
    p = suppress(cells, threshold)
    g = augmented(cells)
    r, c = len(cells), len(cells[0])
    lines = [((i, c), [(i, j) for j in range(c)]) for i in range(r + 1)]
    lines += [((r, j), [(i, j) for i in range(r)]) for j in range(c + 1)]
    for margin, parts in lines:
        if p.value(margin) is None:
            continue
        hidden_sum = sum(g[i][j] for i, j in parts if p.value((i, j)) is None)
        assert hidden_sum == 0 or hidden_sum >= threshold


# --- the attacker has teeth ---------------------------------------------------------------------


def _primary_only(cells, threshold) -> Published:
    g = augmented(cells)
    r, c = len(cells), len(cells[0])

    def shown(i, j):
        return None if 0 < g[i][j] < threshold else g[i][j]

    return Published(
        [[shown(i, j) for j in range(c)] for i in range(r)],
        [shown(i, c) for i in range(r)],
        [shown(r, j) for j in range(c)],
        shown(r, c),
    )


def test_the_attacker_recovers_a_cell_hidden_without_complements():
    cells = [[2, 10], [10, 10]]
    naive = _primary_only(cells, 5)
    assert naive.cells[0][0] is None
    assert determined_by_algebra(naive, 2, 2) == {(0, 0)}
    assert determined_by_search(naive, cells, set()) == {(0, 0)}


def test_the_whole_number_attacker_sees_what_algebra_misses():
    """Two hidden cells of one row, one of them pinned at 1 by 'hidden means at least 1'."""
    cells = [[1, 1, 10]]
    p = Published([[None, None, 10]], [12], [None, None, 10], 12)
    assert determined_by_algebra(p, 1, 3) == set()  # x + y = 2 has many real solutions
    assert determined_by_search(p, cells, set()) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    # and the real suppression does not publish such a line
    real = suppress(cells, 5)
    assert real.cells[0][2] is None  # a third cell widens the line
    assert determined_by_search(real, cells, set()) == set()
    assert determined_by_algebra(real, 1, 3) == set()


def test_a_single_small_cell_takes_three_complements_with_it():
    p = suppress([[3, 20, 30], [40, 50, 60]], 5)
    assert p.primary == {(0, 0)}
    # the cheapest cycle through (0, 0): the smallest cells of its row and column
    assert p.cells == [[None, None, 30], [None, None, 60]]
    assert p.row_totals == [53, 150] and p.col_totals == [43, 70, 90] and p.total == 203


def test_zeros_are_shown_and_never_used_as_complements():
    p = suppress([[0, 2, 0], [0, 30, 40]], 5)
    assert p.cells[0][0] == 0 and p.cells[0][2] == 0 and p.cells[1][0] == 0
    assert determined_by_algebra(p, 2, 3) == set()


def test_a_table_of_zeros_hides_nothing():
    p = suppress([[0, 0], [0, 0]], 5)
    assert p.hidden == frozenset() and p.total == 0


def test_the_grand_total_is_kept_when_anything_else_will_do():
    p = suppress([[2, 50], [50, 50], [50, 50]], 5)
    assert p.total == 252


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        suppress([[1, -1]], 5)
    with pytest.raises(ValueError):
        suppress([[1, 2], [3]], 5)
    with pytest.raises(ValueError):
        suppress([[1]], 0)


# --- linked tables --------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    a=tables(max_rows=5, max_cols=3),
    extra=st.lists(st.lists(counts, min_size=1, max_size=4), min_size=1, max_size=4),
    threshold=st.sampled_from([3, 5]),
)
def test_tables_that_share_their_column_totals_cannot_be_attacked_together(a, extra, threshold):
    """Two tables with the same columns and the same column totals (referrals by month and by
    region): a figure hidden in one is hidden in the other, and the joint attack fails."""
    c = len(a[0])
    # b: other rows with the same column totals (the last row makes up the difference)
    b = [row[:c] + [0] * (c - len(row[:c])) for row in extra]
    col_a = [sum(row[j] for row in a) for j in range(c)]
    col_b = [sum(row[j] for row in b) for j in range(c)]
    if any(x < y for x, y in zip(col_a, col_b, strict=True)):
        a = [*a, [max(0, y - x) for x, y in zip(col_a, col_b, strict=True)]]
        col_a = [sum(row[j] for row in a) for j in range(c)]
    b = [*b, [x - y for x, y in zip(col_a, col_b, strict=True)]]
    ra, rb = len(a), len(b)
    links = [[(0, (ra, j)), (1, (rb, j))] for j in range(c + 1)]
    pa, pb = suppress_linked([TableSpec(a), TableSpec(b)], links, threshold)
    for j in range(c + 1):
        assert (pa.value((ra, j)) is None) == (pb.value((rb, j)) is None)
    joint_links = [((0, (ra, j)), (1, (rb, j))) for j in range(c + 1)]
    da, db = determined_jointly([(pa, ra, c), (pb, rb, c)], joint_links)
    assert da == set() and db == set()


@settings(max_examples=150, deadline=None)
@given(
    a=tables(max_rows=3, max_cols=2),
    b=tables(max_rows=3, max_cols=2),
    threshold=st.sampled_from([3, 5]),
)
def test_tables_that_share_their_grand_total_resist_a_joint_whole_number_attack(a, b, threshold):
    """Calls by day and calls by region publish the same total number of calls. Make the two
    tables' totals equal, suppress them together, and try every joint −1/0/+1 change."""
    ta, tb = sum(map(sum, a)), sum(map(sum, b))
    if ta < tb:
        a[0][0] += tb - ta
    else:
        b[0][0] += ta - tb
    ra, ca, rb, cb = len(a), len(a[0]), len(b), len(b[0])
    link = [(0, (ra, ca)), (1, (rb, cb))]
    pa, pb = suppress_linked([TableSpec(a), TableSpec(b)], [link], threshold)
    assert (pa.total is None) == (pb.total is None)
    da, db = determined_jointly_by_search(
        [(pa, a, set()), (pb, b, set())], [((0, (ra, ca)), (1, (rb, cb)))]
    )
    assert da == set() and db == set()
