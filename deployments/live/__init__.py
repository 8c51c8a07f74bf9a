"""Live logs: how a stored line reaches the browser at once.

`wakeups` says "look again" (Redis pub/sub, or shared polling ticks without
Redis) and shares one database read among every stream of a run; `views`
serves the run page's Server-Sent Events stream, which resumes from
Last-Event-ID. The lines themselves are stored by `runs.logs`. See docs/live-logs.md."""
