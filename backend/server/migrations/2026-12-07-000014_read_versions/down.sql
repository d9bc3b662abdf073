DO $$
DECLARE
    table_name text;
BEGIN
    FOREACH table_name IN ARRAY ARRAY['assignments', 'task_parties', 'task_targets', 'reference_values', 'negative_reports',
                                      'measurements', 'indicators', 'units'] LOOP
        EXECUTE format('DROP TRIGGER %I ON %I', table_name || '_inserted_move_versions', table_name);
        EXECUTE format('DROP TRIGGER %I ON %I', table_name || '_updated_move_versions', table_name);
        EXECUTE format('DROP TRIGGER %I ON %I', table_name || '_deleted_move_versions', table_name);
    END LOOP;
END $$;
DROP TRIGGER campaigns_updated_move_versions ON campaigns;
DROP FUNCTION task_rows_move_versions();
DROP FUNCTION measurements_move_versions();
DROP FUNCTION indicators_move_versions();
DROP FUNCTION campaigns_move_versions();
DROP FUNCTION units_move_versions();
CREATE OR REPLACE FUNCTION tasks_move_versions() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP FUNCTION queue_campaign_moves(bigint[]);
DROP TRIGGER campaign_version_moves_at_commit ON campaign_version_moves;
DROP FUNCTION move_campaign_version();
DROP TABLE campaign_version_moves;
COMMENT ON TABLE campaign_versions IS 'Moves with every statement that changes a campaign''s tasks; kept by triggers on tasks.';
