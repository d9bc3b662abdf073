-- Evidence (佐证材料) and its storage, the review workflow, measurements of
-- quantified tasks, the negative list, notifications and the working-day
-- calendar.

-- Stored objects, addressed by the SHA-256 of their content: the same file
-- uploaded twice is stored once.
CREATE TABLE blobs (
    sha256       bytea PRIMARY KEY CHECK (length(sha256) = 32),
    size         bigint NOT NULL CHECK (size >= 0),
    content_type text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- One piece of evidence on an assignment; its file can be replaced by a
-- new version, and every version is kept.
CREATE TABLE evidence (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assignment_id  bigint NOT NULL REFERENCES assignments (id),
    description    text NOT NULL DEFAULT '',
    -- When the material takes effect (a document's date), not when it was uploaded.
    effective_date date,
    created_by     bigint REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- A unit may withdraw evidence that is not under review or sealed.
    withdrawn_at   timestamptz
);
CREATE INDEX evidence_assignment_idx ON evidence (assignment_id);

CREATE TABLE evidence_versions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    evidence_id  bigint NOT NULL REFERENCES evidence (id),
    version      integer NOT NULL CHECK (version > 0),
    sha256       bytea NOT NULL REFERENCES blobs (sha256),
    -- The file name exactly as uploaded, Chinese included.
    file_name    text NOT NULL CHECK (btrim(file_name) <> ''),
    uploaded_by  bigint REFERENCES users (id),
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (evidence_id, version)
);
CREATE INDEX evidence_versions_blob_idx ON evidence_versions (sha256);

-- The review workflow: every submission and decision, in order.
CREATE TABLE decisions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assignment_id bigint NOT NULL REFERENCES assignments (id),
    round         integer NOT NULL CHECK (round > 0),
    action        text NOT NULL CHECK (action IN ('submit', 'return', 'accept', 'approve')),
    from_status   text NOT NULL,
    to_status     text NOT NULL,
    actor_id      bigint REFERENCES users (id),
    actor_unit_id bigint REFERENCES units (id),
    reason        text,
    at            timestamptz NOT NULL DEFAULT now(),
    CHECK (action <> 'return' OR (reason IS NOT NULL AND btrim(reason) <> ''))
);
CREATE INDEX decisions_assignment_idx ON decisions (assignment_id, id);

-- The evidence versions a submission or decision covered, with their
-- hashes: an approval seals exactly these.
CREATE TABLE decision_evidence (
    decision_id         bigint NOT NULL REFERENCES decisions (id),
    evidence_version_id bigint NOT NULL REFERENCES evidence_versions (id),
    sha256              bytea NOT NULL CHECK (length(sha256) = 32),
    PRIMARY KEY (decision_id, evidence_version_id)
);

ALTER TABLE assignments ADD COLUMN round integer NOT NULL DEFAULT 0 CHECK (round >= 0);

-- Measured values of quantified tasks, per assignment, target and period.
CREATE TABLE measurements (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assignment_id   bigint NOT NULL REFERENCES assignments (id),
    target_position smallint NOT NULL CHECK (target_position > 0),
    period          text NOT NULL CHECK (period ~ '^[0-9]{4}(-[0-9]{2})?$'),
    value           double precision NOT NULL CHECK (value >= 0 AND value < 'Infinity'),
    numerator       double precision CHECK (numerator >= 0),
    denominator     double precision CHECK (denominator > 0),
    start_date      date,
    end_date        date,
    note            text,
    reported_by     bigint REFERENCES users (id),
    reported_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (assignment_id, target_position, period),
    CHECK ((numerator IS NULL) = (denominator IS NULL)),
    CHECK ((start_date IS NULL) = (end_date IS NULL) AND (start_date IS NULL OR start_date <= end_date))
);

-- The figure a relative target is compared with, per period (Q22: the
-- national average losing rate of the previous year).
CREATE TABLE reference_values (
    task_id         bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    target_position smallint NOT NULL CHECK (target_position > 0),
    period          text NOT NULL CHECK (period ~ '^[0-9]{4}(-[0-9]{2})?$'),
    value           double precision NOT NULL CHECK (value >= 0 AND value < 'Infinity'),
    set_by          bigint REFERENCES users (id),
    set_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, target_position, period)
);

-- The negative list: each unit attests, each period, that an item did not
-- occur, or reports an occurrence; a confirmed occurrence vetoes the campaign.
CREATE TABLE negative_reports (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id      bigint NOT NULL,
    task_list    text NOT NULL DEFAULT 'negative' CHECK (task_list = 'negative'),
    unit_id      bigint NOT NULL REFERENCES units (id),
    period       text NOT NULL CHECK (period ~ '^[0-9]{4}(-[0-9]{2})?$'),
    occurred     boolean NOT NULL,
    occurred_on  date,
    description  text,
    evidence_id  bigint REFERENCES evidence (id),
    reported_by  bigint REFERENCES users (id),
    reported_at  timestamptz NOT NULL DEFAULT now(),
    confirmed_by bigint REFERENCES users (id),
    confirmed_at timestamptz,
    FOREIGN KEY (task_id, task_list) REFERENCES tasks (id, list),
    UNIQUE (task_id, unit_id, period),
    CHECK (occurred OR (occurred_on IS NULL AND confirmed_at IS NULL)),
    CHECK (NOT occurred OR (occurred_on IS NOT NULL AND description IS NOT NULL AND btrim(description) <> ''))
);
CREATE INDEX negative_reports_confirmed_idx ON negative_reports (task_id) WHERE confirmed_at IS NOT NULL;

-- An inbox per user.
CREATE TABLE notifications (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('assigned', 'returned', 'accepted', 'approved', 'submitted', 'due_soon', 'overdue')),
    assignment_id bigint REFERENCES assignments (id) ON DELETE CASCADE,
    message       text NOT NULL,
    -- For deadline notices: the due date they are about, so each is sent once.
    due_date      date,
    created_at    timestamptz NOT NULL DEFAULT now(),
    read_at       timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE UNIQUE INDEX notifications_deadline_once ON notifications (user_id, assignment_id, kind, due_date)
    WHERE kind IN ('due_soon', 'overdue');

-- Overrides of the working-day calendar: a year's holidays and make-up
-- working days (调休) once the State Council publishes them.
CREATE TABLE calendar_days (
    day        date PRIMARY KEY,
    is_workday boolean NOT NULL,
    note       text,
    set_by     bigint REFERENCES users (id),
    set_at     timestamptz NOT NULL DEFAULT now()
);
