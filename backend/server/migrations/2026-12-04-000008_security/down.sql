CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TABLE audit_archives;
DROP TABLE audit_checkpoints;
ALTER TABLE sessions DROP COLUMN user_agent;
DROP TABLE recovery_codes;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_enabled_at;
ALTER TABLE users DROP COLUMN totp_secret;
DROP TABLE password_history;
ALTER TABLE users DROP COLUMN must_change_password;
DROP TRIGGER users_one_administrative_role ON users;
DROP FUNCTION users_keep_administrative_role();
ALTER TABLE users DROP CONSTRAINT users_role_check;
UPDATE users SET role = 'admin' WHERE role IN ('system_admin', 'security_admin', 'audit_admin');
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'lead_office', 'unit_manager', 'unit_staff', 'inspector'));
