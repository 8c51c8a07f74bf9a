"""How the executor groups Terraform's output lines before storing them."""

import io
import os
import threading

from deployments.runs.executor import _line_batches


def test_lines_already_there_are_stored_together_up_to_the_limit():
    assert [len(batch) for batch in _line_batches(io.BytesIO(b"line\n" * 1201), limit=500)] == [500, 500, 201]


def test_a_burst_is_one_batch_and_the_next_burst_another_in_order():
    read_end, write_end = os.pipe()
    first_stored = threading.Event()

    def terraform():
        with os.fdopen(write_end, "wb", buffering=0) as out:
            out.write(b"".join(b"plan %d\n" % i for i in range(5)))  # one burst, in one write
            first_stored.wait(timeout=30)  # the next burst comes after the first was handed over
            out.write(b"".join(b"apply %d\n" % i for i in range(3)))

    threading.Thread(target=terraform, daemon=True).start()
    batches = []
    for batch in _line_batches(os.fdopen(read_end, "rb"), window=1):
        batches.append(batch)
        first_stored.set()
    assert batches == [[b"plan %d\n" % i for i in range(5)], [b"apply %d\n" % i for i in range(3)]]


def test_an_empty_output_ends_at_once():
    read_end, write_end = os.pipe()
    os.close(write_end)
    assert list(_line_batches(os.fdopen(read_end, "rb"))) == []
