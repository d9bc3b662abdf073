-- A task's schedule light, kept as the days it turns yellow and red
-- (duban_rules::schedule::LightDates), so that lists filter and dashboards
-- count lights by comparing dates. given_out is the day of the task's first
-- assignment, the start of the window it is judged against. The server
-- fills all three for existing tasks right after this migration.
ALTER TABLE tasks
    ADD COLUMN given_out date,
    ADD COLUMN yellow_from date,
    ADD COLUMN red_from date;

DROP INDEX tasks_rollup_idx;
CREATE INDEX tasks_rollup_idx ON tasks (campaign_id, list, rollup_status, next_due, yellow_from, red_from);
