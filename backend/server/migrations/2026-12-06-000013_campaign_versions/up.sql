-- Every change to a campaign's tasks moves the campaign's version, in the
-- changing transaction (statement triggers, whatever the code path). The
-- province dashboard keeps each campaign's figures for a day together
-- with the version they were counted at, and counts again only the
-- campaigns whose version moved: exact, and a scan of one row per
-- campaign when nothing changed.
CREATE TABLE campaign_versions (
    campaign_id bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    version     bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE campaign_versions IS 'Moves with every statement that changes a campaign''s tasks; kept by triggers on tasks.';
INSERT INTO campaign_versions (campaign_id) SELECT id FROM campaigns;

CREATE FUNCTION campaigns_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO campaign_versions (campaign_id) VALUES (NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER campaigns_versioned AFTER INSERT ON campaigns FOR EACH ROW EXECUTE FUNCTION campaigns_versioned();

-- Transition tables name the rows a statement changed; a campaign is
-- moved once per statement however many of its tasks changed.
CREATE FUNCTION tasks_move_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE campaign_versions SET version = version + 1 WHERE campaign_id IN (SELECT campaign_id FROM changed_after);
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE campaign_versions SET version = version + 1 WHERE campaign_id IN (SELECT campaign_id FROM changed_before);
    ELSE
        UPDATE campaign_versions SET version = version + 1
         WHERE campaign_id IN (SELECT campaign_id FROM changed_before UNION SELECT campaign_id FROM changed_after);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tasks_inserted_move_versions AFTER INSERT ON tasks REFERENCING NEW TABLE AS changed_after
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_move_versions();
CREATE TRIGGER tasks_updated_move_versions AFTER UPDATE ON tasks REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed_after
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_move_versions();
CREATE TRIGGER tasks_deleted_move_versions AFTER DELETE ON tasks REFERENCING OLD TABLE AS changed_before
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_move_versions();
