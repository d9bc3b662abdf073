DROP INDEX tasks_rollup_idx;
ALTER TABLE tasks DROP COLUMN given_out, DROP COLUMN yellow_from, DROP COLUMN red_from;
CREATE INDEX tasks_rollup_idx ON tasks (campaign_id, list, rollup_status, next_due);
