"""`make chaos`: appeals through a private stack whose pieces are killed and restarted, then
every appeal checked (see README, "Resilience: `make chaos`")."""
