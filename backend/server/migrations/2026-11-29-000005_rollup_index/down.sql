DROP INDEX tasks_rollup_idx;
