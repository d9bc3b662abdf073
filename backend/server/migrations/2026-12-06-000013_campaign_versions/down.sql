DROP TRIGGER tasks_inserted_move_versions ON tasks;
DROP TRIGGER tasks_updated_move_versions ON tasks;
DROP TRIGGER tasks_deleted_move_versions ON tasks;
DROP FUNCTION tasks_move_versions();
DROP TRIGGER campaigns_versioned ON campaigns;
DROP FUNCTION campaigns_versioned();
DROP TABLE campaign_versions;
