"""`make bench-analytics`: the assessment and analytics endpoints over a PostgreSQL filled with N
synthetic appeals.

- `world`: the reference data as the generator sees it (units, catalogue, routing, time limits);
- `mix`: how appeals are spread (categories, places, channels, types, seasons, rising problems);
- `texts`: the Chinese text of an appeal and its place, from per-category templates;
- `life`: one appeal's life run through the real rules of `domain.appeal` and
  `domain.collaboration`, the way `AppealWorkflow` runs it (timers included);
- `paths`: which life an appeal lives (decisions, delays, outcomes);
- `store`: the database side (COPY, indexes around the load, the dataset marker);
- `endpoints`, `__main__`: the benchmark itself. `bench.generate` is the generator's command.
"""
