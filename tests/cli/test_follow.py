"""How `--wait` follows a run, against a scripted API (httpx's mock transport): the log as it comes,
a progress line while Terraform is quiet, and the exit code of the outcome."""

import io

import httpx
import pytest

from hangar_cli import follow as following
from hangar_cli.client import ApiError, Client


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def scripted(pages: list[dict], final: dict, *, waiting_after: int | None = None):
    """An API whose log answers `pages` in turn, then `final`'s status; the run waits for a person
    from the `waiting_after`-th read of the run on, when given."""
    reads = {"run": 0, "logs": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Token hangar_test"
        if request.url.path.endswith("/logs/"):
            index = min(reads["logs"], len(pages) - 1)
            reads["logs"] += 1
            return httpx.Response(200, json=pages[index])
        reads["run"] += 1
        waiting = waiting_after is not None and reads["run"] > waiting_after
        return httpx.Response(
            200,
            json={
                **final,
                "awaiting_confirmation": waiting,
                "awaiting_approval": waiting and final.get("approval_required", False),
            },
        )

    return Client("http://hangar.test", "hangar_test", transport=httpx.MockTransport(handler))


RUN = {"id": 7, "url": "http://hangar.test/runs/7/", "operation": "apply", "version": "0.1.0", "environment": "dev",
       "plan": {"add": 1, "change": 0, "destroy": 0}, "outputs": {"table": {"id": "t"}}, "error": ""}  # fmt: skip


def page(*messages, finished=False, after=0):
    lines = [{"seq": after + n, "message": m} for n, m in enumerate(messages, 1)]
    return {"lines": lines, "finished": finished, "next": after + len(lines)}


@pytest.fixture(autouse=True)
def fast(monkeypatch):
    monkeypatch.setattr(following, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(following, "STATUS_SECONDS", 0.0)


def test_a_run_that_succeeds_exits_0_after_its_log_and_outputs():
    client = scripted(
        [page("Plan: 1 to add"), page("Apply complete!", finished=True, after=1)], {**RUN, "status": "succeeded"}
    )
    out, err = io.StringIO(), io.StringIO()
    assert following.follow(client, 7, out=out, err=err) == 0
    assert out.getvalue().splitlines() == [
        "Plan: 1 to add",
        "Apply complete!",
        "run #7 apply of 0.1.0 on dev: succeeded (+1 ~0 -0)",
        'output table = {"id": "t"}',
    ]


def test_a_run_that_fails_exits_1_with_its_error():
    client = scripted(
        [page("Error: boom", finished=True)], {**RUN, "status": "failed", "error": "terraform plan failed"}
    )
    out, err = io.StringIO(), io.StringIO()
    assert following.follow(client, 7, out=out, err=err) == 1
    assert "Error: boom" in out.getvalue() and "error: terraform plan failed" in err.getvalue()


def test_a_plan_waiting_for_approval_exits_3_with_the_url_and_a_progress_line_meanwhile(monkeypatch):
    monkeypatch.setattr(following, "_elapsed", lambda seconds: "5s")
    clock = iter(range(0, 10_000, 3))
    monkeypatch.setattr(following, "monotonic", lambda: next(clock))
    client = scripted(
        [page("Planning"), page(after=1)], {**RUN, "status": "planned", "approval_required": True}, waiting_after=3
    )
    out, err = Tty(), io.StringIO()
    assert following.follow(client, 7, out=out, err=err) == 3
    assert "\r\033[K… planned for 5s, Terraform quiet for 5s" in out.getvalue()
    assert err.getvalue().strip() == (
        "Run #7 waits for a second team lead's approval (not the requester's): http://hangar.test/runs/7/"
    )


def test_errors_carry_hangars_own_words():
    def handler(request):
        return httpx.Response(
            401, json={"detail": "This token ('ci') expired on 2026-01-01 00:00 UTC; create a new one."}
        )

    client = Client("http://hangar.test", "hangar_x", transport=httpx.MockTransport(handler))
    with pytest.raises(ApiError) as caught:
        client.get("/api/runs/")
    assert caught.value.status == 401 and caught.value.message.startswith("This token ('ci') expired")
