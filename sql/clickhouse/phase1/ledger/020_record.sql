-- One ledger row: a step started (finished_at NULL, outcome 'running') or ended.
INSERT INTO dbopt_ledger (step, checksum, run_id, started_at, finished_at, outcome, detail, recorded_at)
VALUES (
    {step:String}, {checksum:String}, {run_id:String}, {started_at:DateTime64(3, 'UTC')},
    {finished_at:Nullable(DateTime64(3, 'UTC'))}, {outcome:String}, {detail:String}, now64(3)
);
