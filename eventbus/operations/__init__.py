"""Operator tools: stats, replay, purge, dead letters and correlation traces; the admin and the
`eventbus` command call these."""
