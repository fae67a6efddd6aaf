"""``check``: each snapshot's call re-run against today's code, in its own process, judged."""
