-- Ready for 等保 level 3: separated administrators (三员分立), password ageing
-- and history, forced changes, a second factor, audit checkpoints and
-- archives with a retention the database enforces.

-- 三员分立: the one all-powerful admin becomes the system administrator; the
-- security and audit administrators are new. An account holds one role, and
-- an administrative role is given when the account is made and never
-- changed, so no account ever gathers two of them.
ALTER TABLE users DROP CONSTRAINT users_role_check;
UPDATE users SET role = 'system_admin' WHERE role = 'admin';
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (
    'system_admin', 'security_admin', 'audit_admin', 'lead_office', 'unit_manager', 'unit_staff', 'inspector'));

CREATE FUNCTION users_keep_administrative_role() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.role <> NEW.role
       AND (OLD.role IN ('system_admin', 'security_admin', 'audit_admin')
            OR NEW.role IN ('system_admin', 'security_admin', 'audit_admin')) THEN
        RAISE EXCEPTION 'an administrative role (系统/安全/审计管理员) is given with a new account and never changed: % to %',
            OLD.role, NEW.role
            USING ERRCODE = 'check_violation', CONSTRAINT = 'users_one_administrative_role';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER users_one_administrative_role BEFORE UPDATE OF role ON users
    FOR EACH ROW EXECUTE FUNCTION users_keep_administrative_role();

-- Passwords: a password set by someone else must be changed at the next
-- sign-in; the last ones may not come back.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;
CREATE TABLE password_history (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash text NOT NULL,
    changed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_history_user_idx ON password_history (user_id, id DESC);

-- The second factor: a TOTP secret (RFC 6238), enabled once a code from it
-- was entered; the last time step used, so that no code is accepted twice;
-- one-time recovery codes, kept as hashes.
ALTER TABLE users ADD COLUMN totp_secret bytea;
ALTER TABLE users ADD COLUMN totp_enabled_at timestamptz;
ALTER TABLE users ADD COLUMN totp_last_step bigint;
CREATE TABLE recovery_codes (
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL CHECK (length(code_hash) = 32),
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- A session may be limited to what a user must do first (change the
-- password, enrol the second factor); recorded for the session list.
ALTER TABLE sessions ADD COLUMN user_agent text;

-- Audit checkpoints: the chain's head, signed with a key the database does
-- not hold, and written to a file outside it; kept here too for listing.
CREATE TABLE audit_checkpoints (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    last_id   bigint NOT NULL,
    head_hash bytea NOT NULL CHECK (length(head_hash) = 32),
    row_count bigint NOT NULL,
    key_id    text NOT NULL,
    signature bytea NOT NULL CHECK (length(signature) = 64)
);

-- Archived segments of the chain: written to a signed file, then pruned.
CREATE TABLE audit_archives (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    first_id    bigint NOT NULL,
    last_id     bigint NOT NULL CHECK (last_id >= first_id),
    last_hash   bytea NOT NULL CHECK (length(last_hash) = 32),
    row_count   bigint NOT NULL,
    file_name   text NOT NULL,
    file_sha256 bytea NOT NULL CHECK (length(file_sha256) = 32),
    archived_at timestamptz NOT NULL DEFAULT now()
);

-- Rows stay append-only. The one exception: rows older than 180 days (the
-- retention of 网络安全法 §21) that an archive already holds may be deleted
-- by `duban audit archive`, which says so for its transaction.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('duban.audit_prune', true) = 'on'
           AND OLD.at < now() - interval '180 days'
           AND EXISTS (SELECT 1 FROM audit_archives a WHERE OLD.id BETWEEN a.first_id AND a.last_id) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
