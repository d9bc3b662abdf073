-- A campaign's version now moves with every change to what its dashboard
-- and its tasks' pages show, not only with its tasks: assignments, parties,
-- targets, reference values, measurements, negative reports, indicators,
-- the campaign itself and the units of its county. Those pages are kept in
-- memory with the version they were computed at (see ARCHITECTURE.md,
-- "Pages kept between requests are never stale").
--
-- How, in two steps:
-- 1. Statement triggers (with transition tables: one pass per statement,
--    however many rows) queue each campaign a transaction changes, once per
--    transaction, as a row of campaign_version_moves. That row locks
--    nothing anyone else needs.
-- 2. A trigger on that row, deferred to the commit, moves the version and
--    removes the row. The version row is so locked only in the last moment
--    of a transaction: writers within one county wait on each other for no
--    longer than a commit, and never while holding rows another needs.
-- The triggers of 000013 on tasks are changed to queue as well.

CREATE TABLE campaign_version_moves (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id bigint NOT NULL
);
COMMENT ON TABLE campaign_version_moves IS 'Campaigns whose version moves when the queuing transaction commits; always empty outside one.';

CREATE FUNCTION move_campaign_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE campaign_versions SET version = version + 1 WHERE campaign_id = NEW.campaign_id;
    DELETE FROM campaign_version_moves WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER campaign_version_moves_at_commit AFTER INSERT ON campaign_version_moves
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION move_campaign_version();

-- Queues each of `campaigns` once per transaction (a transaction-local
-- setting remembers which; a rolled-back savepoint forgets with its rows).
CREATE FUNCTION queue_campaign_moves(campaigns bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    campaign bigint;
BEGIN
    FOREACH campaign IN ARRAY campaigns LOOP
        IF campaign IS NOT NULL AND current_setting('duban.moved_campaign_' || campaign, true) IS DISTINCT FROM 'yes' THEN
            PERFORM set_config('duban.moved_campaign_' || campaign, 'yes', true);
            INSERT INTO campaign_version_moves (campaign_id) VALUES (campaign);
        END IF;
    END LOOP;
END $$;

-- tasks (replacing 000013's immediate moves).
CREATE OR REPLACE FUNCTION tasks_move_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM queue_campaign_moves(ARRAY(SELECT DISTINCT campaign_id FROM changed_after));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM queue_campaign_moves(ARRAY(SELECT DISTINCT campaign_id FROM changed_before));
    ELSE
        PERFORM queue_campaign_moves(ARRAY(SELECT campaign_id FROM changed_before UNION SELECT campaign_id FROM changed_after));
    END IF;
    RETURN NULL;
END $$;

-- Rows that belong to a task (assignments, task_parties, task_targets,
-- reference_values, negative_reports).
CREATE FUNCTION task_rows_move_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM queue_campaign_moves(ARRAY(
            SELECT DISTINCT t.campaign_id FROM tasks t WHERE t.id IN (SELECT task_id FROM changed_after)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM queue_campaign_moves(ARRAY(
            SELECT DISTINCT t.campaign_id FROM tasks t WHERE t.id IN (SELECT task_id FROM changed_before)));
    ELSE
        PERFORM queue_campaign_moves(ARRAY(
            SELECT DISTINCT t.campaign_id FROM tasks t
             WHERE t.id IN (SELECT task_id FROM changed_before UNION SELECT task_id FROM changed_after)));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION measurements_move_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM queue_campaign_moves(ARRAY(
            SELECT DISTINCT t.campaign_id FROM assignments a JOIN tasks t ON t.id = a.task_id
             WHERE a.id IN (SELECT assignment_id FROM changed_after)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM queue_campaign_moves(ARRAY(
            SELECT DISTINCT t.campaign_id FROM assignments a JOIN tasks t ON t.id = a.task_id
             WHERE a.id IN (SELECT assignment_id FROM changed_before)));
    ELSE
        PERFORM queue_campaign_moves(ARRAY(
            SELECT DISTINCT t.campaign_id FROM assignments a JOIN tasks t ON t.id = a.task_id
             WHERE a.id IN (SELECT assignment_id FROM changed_before UNION SELECT assignment_id FROM changed_after)));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION indicators_move_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM queue_campaign_moves(ARRAY(SELECT DISTINCT campaign_id FROM changed_after));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM queue_campaign_moves(ARRAY(SELECT DISTINCT campaign_id FROM changed_before));
    ELSE
        PERFORM queue_campaign_moves(ARRAY(SELECT campaign_id FROM changed_before UNION SELECT campaign_id FROM changed_after));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION campaigns_move_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM queue_campaign_moves(ARRAY(SELECT id FROM changed_after));
    RETURN NULL;
END $$;

-- A unit is shown by name on the dashboards and tasks of its county's
-- campaigns.
CREATE FUNCTION units_move_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM queue_campaign_moves(ARRAY(SELECT id FROM campaigns WHERE region_id IN (SELECT region_id FROM changed_after)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM queue_campaign_moves(ARRAY(SELECT id FROM campaigns WHERE region_id IN (SELECT region_id FROM changed_before)));
    ELSE
        PERFORM queue_campaign_moves(ARRAY(
            SELECT id FROM campaigns
             WHERE region_id IN (SELECT region_id FROM changed_before UNION SELECT region_id FROM changed_after)));
    END IF;
    RETURN NULL;
END $$;

-- Three statement triggers per table, since a trigger with transition
-- tables can serve one event only.
DO $$
DECLARE
    spec record;
BEGIN
    FOR spec IN SELECT * FROM (VALUES
        ('assignments', 'task_rows_move_versions'),
        ('task_parties', 'task_rows_move_versions'),
        ('task_targets', 'task_rows_move_versions'),
        ('reference_values', 'task_rows_move_versions'),
        ('negative_reports', 'task_rows_move_versions'),
        ('measurements', 'measurements_move_versions'),
        ('indicators', 'indicators_move_versions'),
        ('units', 'units_move_versions')) AS specs (table_name, function_name)
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS changed_after
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', spec.table_name || '_inserted_move_versions', spec.table_name, spec.function_name);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed_after
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', spec.table_name || '_updated_move_versions', spec.table_name, spec.function_name);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed_before
                        FOR EACH STATEMENT EXECUTE FUNCTION %I()', spec.table_name || '_deleted_move_versions', spec.table_name, spec.function_name);
    END LOOP;
END $$;
CREATE TRIGGER campaigns_updated_move_versions AFTER UPDATE ON campaigns REFERENCING NEW TABLE AS changed_after
    FOR EACH STATEMENT EXECUTE FUNCTION campaigns_move_versions();

COMMENT ON TABLE campaign_versions IS 'Moves at the commit of every change to what a campaign''s dashboard and task pages show; kept by triggers.';
