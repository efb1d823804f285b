-- A claim, a renewal (same claim_id, later expiry) or a release (released = 1); the
-- expiry is measured on the server's clock.
INSERT INTO dbopt_run_lock (resource, claim_id, run_id, job, host, expires_at, released)
SELECT {resource:String}, {claim_id:String}, {run_id:String}, {job:String}, {host:String},
       now64(3, 'UTC') + toIntervalMillisecond({ttl_ms:UInt64}), {released:UInt8};
