-- Import jobs are claimed with a lease that the running instance renews.
-- Any instance fails a queued or running job whose lease has run out (its
-- instance died; its transaction rolled back), and none touches a job
-- another live instance is running.
ALTER TABLE import_jobs ADD COLUMN lease_until timestamptz NOT NULL DEFAULT now() + interval '1 minute';
COMMENT ON COLUMN import_jobs.lease_until IS 'Until when the instance running the job vouches for it; renewed while it runs.';
CREATE INDEX import_jobs_unfinished ON import_jobs (lease_until) WHERE status IN ('queued', 'running');
