"""Assessment and active governance over the appeal projection in PostgreSQL: the three rates,
high-frequency problems, topics, recurring problems. Reads PostgreSQL only, never Temporal."""
