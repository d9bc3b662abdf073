DROP INDEX import_jobs_unfinished;
ALTER TABLE import_jobs DROP COLUMN lease_until;
