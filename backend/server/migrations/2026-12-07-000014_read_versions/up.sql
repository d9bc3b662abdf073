-- A campaign's version now moves with every change to what its dashboard
-- and its tasks' pages show, not only with its tasks: assignments, parties,
-- targets, reference values, measurements, negative reports, indicators,
-- the campaign itself and the units of its county. Those pages are kept in
-- memory with the version they were computed at (see ARCHITECTURE.md,
-- "What an instance keeps in memory").
--
-- These triggers are deferred to the commit: the version row is locked only
-- in the last moment of a transaction, so writers within one county wait
-- on each other for no longer than a commit and never while holding other
-- rows a second writer needs. A campaign moves once per transaction.

CREATE FUNCTION move_campaign_version_at_commit(campaign bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF campaign IS NULL OR current_setting('duban.moved_campaign_' || campaign, true) = 'yes' THEN
        RETURN;
    END IF;
    PERFORM set_config('duban.moved_campaign_' || campaign, 'yes', true);
    UPDATE campaign_versions SET version = version + 1 WHERE campaign_id = campaign;
END $$;

-- Rows that belong to a task (assignments, task_parties, task_targets,
-- reference_values, negative_reports).
CREATE FUNCTION task_row_moves_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM move_campaign_version_at_commit((SELECT campaign_id FROM tasks WHERE id = OLD.task_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM move_campaign_version_at_commit((SELECT campaign_id FROM tasks WHERE id = NEW.task_id));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION measurement_moves_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM move_campaign_version_at_commit(
            (SELECT t.campaign_id FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.id = OLD.assignment_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM move_campaign_version_at_commit(
            (SELECT t.campaign_id FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.id = NEW.assignment_id));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION indicator_moves_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM move_campaign_version_at_commit(OLD.campaign_id);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM move_campaign_version_at_commit(NEW.campaign_id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION campaign_moves_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM move_campaign_version_at_commit(NEW.id);
    RETURN NULL;
END $$;

-- A unit is shown by name on the dashboards and tasks of its county's
-- campaigns.
CREATE FUNCTION unit_moves_versions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    campaign bigint;
BEGIN
    FOR campaign IN
        SELECT id FROM campaigns
         WHERE region_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.region_id ELSE NEW.region_id END
            OR (TG_OP = 'UPDATE' AND region_id = OLD.region_id)
    LOOP
        PERFORM move_campaign_version_at_commit(campaign);
    END LOOP;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER assignments_move_version AFTER INSERT OR UPDATE OR DELETE ON assignments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION task_row_moves_version();
CREATE CONSTRAINT TRIGGER task_parties_move_version AFTER INSERT OR UPDATE OR DELETE ON task_parties
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION task_row_moves_version();
CREATE CONSTRAINT TRIGGER task_targets_move_version AFTER INSERT OR UPDATE OR DELETE ON task_targets
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION task_row_moves_version();
CREATE CONSTRAINT TRIGGER reference_values_move_version AFTER INSERT OR UPDATE OR DELETE ON reference_values
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION task_row_moves_version();
CREATE CONSTRAINT TRIGGER negative_reports_move_version AFTER INSERT OR UPDATE OR DELETE ON negative_reports
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION task_row_moves_version();
CREATE CONSTRAINT TRIGGER measurements_move_version AFTER INSERT OR UPDATE OR DELETE ON measurements
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION measurement_moves_version();
CREATE CONSTRAINT TRIGGER indicators_move_version AFTER INSERT OR UPDATE OR DELETE ON indicators
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION indicator_moves_version();
CREATE CONSTRAINT TRIGGER campaigns_move_version AFTER UPDATE ON campaigns
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION campaign_moves_version();
CREATE CONSTRAINT TRIGGER units_move_versions AFTER INSERT OR UPDATE OR DELETE ON units
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION unit_moves_versions();

COMMENT ON TABLE campaign_versions IS 'Moves with every change to what a campaign''s dashboard and task pages show; kept by triggers.';
