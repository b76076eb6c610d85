import time

import pytest

from devstack.server_process import Polling


class Counting(Polling):
    interval = 0.01

    def __init__(self, fail_after: int | None = None) -> None:
        self.polls, self.fail_after = 0, fail_after

    def poll(self) -> None:
        self.polls += 1
        if self.polls == self.fail_after:
            raise ValueError("no VmHWM line")


def test_polls_while_the_block_runs():
    with Counting() as counting:
        time.sleep(0.1)
    assert counting.polls > 1


def test_a_poll_that_raised_is_reported_when_the_block_ends_not_lost_with_its_thread():
    with pytest.raises(RuntimeError, match="Counting stopped polling") as raised:
        with Counting(fail_after=2):
            time.sleep(0.1)
    assert isinstance(raised.value.__cause__, ValueError)
