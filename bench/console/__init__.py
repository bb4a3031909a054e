"""`make bench-console`: the staff console's pages as each role, over N generated appeals.

- `pages`: the console's GET pages, found in the app, and their parameters filled;
- `people`: one account per role bound to a unit or district with data, logged in through the
  console's login form, and the citizen with a token link;
- `trace`: the server time of each load, the API calls and SQL statements inside it;
- `measure`: warm-up, rounds, the table and where the time goes; `__main__`: the command.
"""
