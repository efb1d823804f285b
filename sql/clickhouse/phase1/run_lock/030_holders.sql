-- Live claims (not released, not expired on the server's clock), first claimed first:
-- the first one holds the lock.
SELECT claim_id, run_id, job, host, expires_at, claimed_at
FROM (
    SELECT
        claim_id,
        any(run_id) AS run_id,
        any(job) AS job,
        any(host) AS host,
        argMax(expires_at, _block_number) AS expires_at,
        max(released) AS released,
        min(recorded_at) AS claimed_at,
        min(_block_number) AS claimed_block
    FROM dbopt_run_lock
    WHERE resource = {resource:String}
    GROUP BY claim_id
)
WHERE released = 0 AND expires_at > now64(3, 'UTC')
ORDER BY claimed_block, claim_id
