"""Working-day arithmetic on the PRC calendar: Spring Festival, 调休 Saturdays, unknown years, loaded schedules."""

from __future__ import annotations

import datetime as dt

from shared import workdays
from shared.workdays import (
    add_workdays,
    day_kind,
    disclosure_deadline,
    is_workday,
    month_end,
    workdays_between,
)

D = dt.date


def test_spring_festival_2024_is_skipped_and_the_make_up_sunday_counts() -> None:
    # 2024 春节: 2月10日–17日 放假; 2月4日（周日）与 2月18日（周日）上班.
    assert is_workday(D(2024, 2, 4)) and is_workday(D(2024, 2, 18))
    assert not any(is_workday(D(2024, 2, d)) for d in range(10, 18))
    # From Friday 2 Feb: 4 Feb (Sun, 调休) is the 1st working day, 5–9 Feb the 2nd–6th, 18 Feb the 7th.
    assert add_workdays(D(2024, 2, 2), 1).due == D(2024, 2, 4)
    assert add_workdays(D(2024, 2, 2), 7).due == D(2024, 2, 18)
    deadline = disclosure_deadline(D(2024, 1, 31))
    # Feb 1,2 (2), 4 (3), 5–9 (8), 18 (9), 19–23 (14), 26–29 (18), Mar 1 (19), Mar 4 (20).
    assert deadline.due == D(2024, 3, 4) and not deadline.uncertain


def test_make_up_saturday_counts_as_a_working_day() -> None:
    # 2023 劳动节: 4月23日（周日）和 5月6日（周六）上班, 4月29日–5月3日 放假.
    assert is_workday(D(2023, 5, 6)) and D(2023, 5, 6).weekday() == 5
    assert not is_workday(D(2023, 5, 2))
    assert add_workdays(D(2023, 4, 28), 1).due == D(2023, 5, 4)
    assert add_workdays(D(2023, 4, 28), 3).due == D(2023, 5, 6)  # 4, 5, then the 调休 Saturday
    assert workdays_between(D(2023, 4, 28), D(2023, 5, 8)) == 4


def test_seed_task_deadline_end_of_june_2023() -> None:
    end = month_end(D(2023, 6, 1))
    assert end == D(2023, 6, 30)
    # July 2023 has no holidays: 20 working days after 30 June is Friday 28 July.
    assert disclosure_deadline(end).due == D(2023, 7, 28)


def test_national_day_2023_with_two_make_up_saturdays() -> None:
    # 2023: 9月29日–10月6日 放假, 10月7日（周六）、8日（周日）上班.
    assert is_workday(D(2023, 10, 7)) and is_workday(D(2023, 10, 8))
    assert add_workdays(D(2023, 9, 28), 1).due == D(2023, 10, 7)


def test_unknown_year_counts_weekends_only_and_says_so() -> None:
    year = 2099
    assert not workdays.library_knows(year)
    deadline = add_workdays(D(year, 1, 1), 5)  # Thursday 1 Jan 2099
    assert deadline.due == D(year, 1, 8)
    assert deadline.uncertain and deadline.unknown_years == (year,)
    assert day_kind(D(year, 1, 3)) == (False, False)


def test_loaded_schedule_overrides_library_and_fills_unknown_years() -> None:
    year = 2099
    overrides = {D(year, 1, 2): False, D(year, 1, 4): True}  # a holiday Friday, a make-up Sunday
    deadline = add_workdays(D(year, 1, 1), 2, overrides, loaded_years={year})
    assert deadline.due == D(year, 1, 5) and not deadline.uncertain
    # An override also beats the library for a known year.
    assert is_workday(D(2024, 2, 12), {D(2024, 2, 12): True})


def test_crossing_into_an_unknown_year_is_flagged() -> None:
    last_known = 2024
    while workdays.library_knows(last_known + 1):
        last_known += 1
    deadline = disclosure_deadline(D(last_known, 12, 20))
    assert deadline.due.year == last_known + 1
    assert deadline.unknown_years == (last_known + 1,)


def test_zero_and_negative_counts() -> None:
    assert add_workdays(D(2024, 2, 10), 0).due == D(2024, 2, 10)
    assert workdays_between(D(2024, 3, 4), D(2024, 3, 1)) == -1
    assert workdays_between(D(2024, 2, 16), D(2024, 2, 19)) == 2  # the 调休 Sunday 18 Feb counts
