-- The server's clock: retention and run locks are measured by it, not by the dbopt host's.
SELECT now64(3, 'UTC')
