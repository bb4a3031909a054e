"""`make chaos`: appeals through a private stack whose pieces are killed and restarted, then
every appeal checked (see docs/operations.md, `make chaos`)."""
