"""How dispatch's ids become send tasks."""

from __future__ import annotations

from reminders.entrypoints.tasks import even_batches


def test_ids_become_as_few_tasks_as_the_size_allows_of_even_length():
    ids = list(range(1, 121))
    batches = even_batches(ids, 100)
    assert [len(b) for b in batches] == [60, 60]
    assert [i for b in batches for i in b] == ids  # each id once, in order


def test_a_claim_under_the_size_is_one_task_and_none_is_none():
    assert even_batches([3, 1, 2], 100) == [[3, 1, 2]]
    assert even_batches([], 100) == []
    assert [len(b) for b in even_batches(list(range(201)), 100)] == [67, 67, 67]
