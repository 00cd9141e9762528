"""The steps wired together: scrape, match, alert, check_quiet; settings; the ``pledgewatch`` CLI.

Each step is a plain function over a ``Context`` (settings, database, client, catalog). The
command line and the Airflow DAGs call the same functions; Airflow adds only scheduling.
"""
