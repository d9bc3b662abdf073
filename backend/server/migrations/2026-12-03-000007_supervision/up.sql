-- Supervision (督办): notices to the units of late work, their receipt,
-- replies, extensions and closing; urging and escalation by rules; every
-- message that leaves the server, through an outbox.

-- The kinds of message grow with supervision.
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'assigned', 'returned', 'accepted', 'approved', 'submitted', 'due_soon', 'overdue',
    'notice_issued', 'notice_urged', 'notice_escalated', 'notice_replied', 'notice_decided', 'bulletin_issued'));
ALTER TABLE notifications ADD COLUMN notice_id bigint;
-- Reminders are sent once per subject, rule and day by `reminders_sent`,
-- which several reminders of one due date need.
DROP INDEX notifications_deadline_once;

-- Personal contacts (personal data: seen by the user, the unit's manager
-- and administrators).
ALTER TABLE users ADD COLUMN email text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+$');
ALTER TABLE users ADD COLUMN phone text;

-- The kinds of message a user also wants by e-mail.
CREATE TABLE channel_preferences (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('email')),
    PRIMARY KEY (user_id, kind, channel)
);

-- The county leader in charge of a unit (分管领导), kept by the lead office.
CREATE TABLE unit_leaders (
    unit_id    bigint PRIMARY KEY REFERENCES units (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (btrim(name) <> ''),
    title      text,
    email      text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+$'),
    phone      text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- How a campaign's documents name their issuer: the issuing organ in the
-- red header and the prefix of document numbers (罗法治办 → 罗法治办督〔2026〕3号).
-- Without a row, both are derived from the county's name.
CREATE TABLE campaign_documents (
    campaign_id   bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    issuing_organ text NOT NULL CHECK (btrim(issuing_organ) <> ''),
    doc_prefix    text NOT NULL CHECK (btrim(doc_prefix) <> ''),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Notice numbers, without gaps per campaign and year: taken in the
-- transaction that issues the notice, so a refused notice gives its number back.
CREATE TABLE notice_numbers (
    campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    year        integer NOT NULL,
    last        integer NOT NULL CHECK (last >= 1),
    PRIMARY KEY (campaign_id, year)
);

CREATE TABLE notices (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id        bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    year               integer NOT NULL,
    number             integer NOT NULL CHECK (number >= 1),
    doc_number         text NOT NULL,
    level              text NOT NULL CHECK (level IN ('general', 'key', 'urgent')),
    title              text NOT NULL CHECK (btrim(title) <> ''),
    requirement        text NOT NULL CHECK (btrim(requirement) <> ''),
    reply_working_days integer NOT NULL CHECK (reply_working_days BETWEEN 1 AND 60),
    issued_by          bigint REFERENCES users (id),
    issued_at          timestamptz NOT NULL DEFAULT now(),
    closed_at          timestamptz,
    UNIQUE (campaign_id, year, number)
);

-- Files: the notice's attachments (reply_id null) and the units' replies'.
CREATE TABLE notice_files (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id bigint NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    event_id  bigint,
    sha256    bytea NOT NULL REFERENCES blobs (sha256),
    file_name text NOT NULL
);
CREATE INDEX notice_files_notice_idx ON notice_files (notice_id);

-- One addressed unit, about one of its assignments.
CREATE TABLE notice_recipients (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id          bigint NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    assignment_id      bigint NOT NULL REFERENCES assignments (id),
    unit_id            bigint NOT NULL REFERENCES units (id),
    state              text NOT NULL CHECK (state IN ('sent', 'acknowledged', 'replied', 'returned', 'closed')),
    reply_due          date NOT NULL,
    acknowledged_at    timestamptz,
    urged              integer NOT NULL DEFAULT 0 CHECK (urged >= 0),
    extension_until    date,
    extension_reason   text,
    extension_asked_at timestamptz,
    version            integer NOT NULL DEFAULT 1,
    UNIQUE (notice_id, assignment_id)
);
CREATE INDEX notice_recipients_assignment_idx ON notice_recipients (assignment_id);
CREATE INDEX notice_recipients_open_idx ON notice_recipients (reply_due) WHERE state <> 'closed';

-- Everything that happened to a notice for one unit: its history.
CREATE TABLE notice_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_id  bigint NOT NULL REFERENCES notice_recipients (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('issued', 'acknowledge', 'reply', 'request_extension', 'grant_extension',
                                                'refuse_extension', 'return', 'close', 'urged', 'escalated_to_manager',
                                                'escalated_to_leader')),
    text          text,
    until         date,
    actor_id      bigint REFERENCES users (id),
    actor_unit_id bigint REFERENCES units (id),
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notice_events_recipient_idx ON notice_events (recipient_id, id);

-- Urging by hand of an assignment without a notice (催办) is counted too.
ALTER TABLE assignments ADD COLUMN urged integer NOT NULL DEFAULT 0 CHECK (urged >= 0);

-- A reminder or an escalation is sent once per subject, rule and day, by
-- whichever duban instance inserts this row first.
CREATE TABLE reminders_sent (
    subject    text NOT NULL CHECK (subject IN ('assignment', 'notice_recipient')),
    subject_id bigint NOT NULL,
    rule       text NOT NULL,
    due_date   date NOT NULL,
    sent_on    date NOT NULL,
    PRIMARY KEY (subject, subject_id, rule, due_date)
);

-- Portals' webhooks and group robots, and the kinds of event each receives.
CREATE TABLE endpoints (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel    text NOT NULL CHECK (channel IN ('webhook', 'dingtalk', 'wecom')),
    name       text NOT NULL CHECK (btrim(name) <> ''),
    url        text NOT NULL,
    secret     text,
    events     text[] NOT NULL,
    enabled    boolean NOT NULL DEFAULT true,
    created_by bigint REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Every message that leaves the server, written in the transaction of the
-- event that caused it and delivered by the dispatcher, at least once.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel         text NOT NULL CHECK (channel IN ('email', 'dingtalk', 'wecom', 'webhook')),
    endpoint_id     bigint REFERENCES endpoints (id) ON DELETE CASCADE,
    destination     text NOT NULL,
    kind            text NOT NULL,
    payload         jsonb NOT NULL,
    idempotency_key text NOT NULL UNIQUE,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';

CREATE TABLE outbox_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id   bigint NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT now(),
    status_code integer,
    latency_ms  bigint NOT NULL,
    error       text
);
CREATE INDEX outbox_attempts_outbox_idx ON outbox_attempts (outbox_id, id);
