-- Bulk imports sent through the API: one job per file, with its progress
-- and, once finished, its report. Jobs are kept as the record of what
-- portals and scripts sent; the audit log records what they changed.
CREATE TABLE import_jobs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('breakdown', 'units', 'users', 'assignments')),
    dry_run     boolean NOT NULL,
    status      text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'completed', 'rejected', 'failed')),
    file_name   text,
    format      text NOT NULL CHECK (format IN ('csv', 'json', 'xlsx', 'docx', 'txt')),
    -- Who sent it: a user or an API client (the other is null).
    user_id     bigint REFERENCES users (id),
    client_id   bigint REFERENCES api_clients (id),
    rows_total  integer CHECK (rows_total >= 0),
    rows_done   integer NOT NULL DEFAULT 0 CHECK (rows_done >= 0),
    report      jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    CHECK ((status IN ('completed', 'rejected', 'failed')) = (finished_at IS NOT NULL))
);
