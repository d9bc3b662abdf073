-- The province's dashboard counts every campaign's tasks by list, status
-- and due date; this index answers it without reading the tasks
-- themselves (an index-only scan), however many counties there are.
CREATE INDEX tasks_rollup_idx ON tasks (campaign_id, list, rollup_status, next_due);
