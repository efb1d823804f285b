"""Day two: the running system watching itself (the plan's "Monitoring Post-Deployment" and
"Alerts to Configure").

- `samples`: the previous sample of a counter source, kept between runs in the data folder;
- `rates`: counters turned into figures over the interval between two samples;
- `latency`: pg_stat_statements over the last interval, with an estimated p99;
- `connections`: connections by state against max_connections, and dbopt's own pool;
- `redis_stats`: Redis keyspace hit rate over the last interval;
- `drift`: sampled drift of the Phase 1 counters and sequence numbers, INVALID indexes;
- `alerts`: the plan's alerts and the drift alerts: thresholds, remedies, why some have none;
- `remedies`: what an alert sensor does on a tick (launch, wait, back off), as plain data;
- `reconcile`: the PostgreSQL remedies (recount counters, repair sequences, rebuild indexes).

Nothing here imports Dagster: the Dagster glue is in `assets/monitoring.py`,
`checks/alerts_*.py`, `pipelines/remedies.py` and `pipelines/sensors.py`.
"""
