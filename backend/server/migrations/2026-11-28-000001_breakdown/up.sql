-- The county's breakdown of the province's checklist: campaigns, their
-- indicators and tasks, the county's units and collective groups, and which
-- units a task names. Closed vocabularies are CHECK constraints whose values
-- are the snake_case spellings of duban-dto's vocabulary enums.

CREATE TABLE regions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE regions IS 'A county (or district) whose units take part in campaigns.';

CREATE TABLE campaigns (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id    bigint NOT NULL REFERENCES regions (id),
    code         text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9-]*$'),
    name         text NOT NULL CHECK (btrim(name) <> ''),
    period_start date,
    period_end   date,
    source_title text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (period_start IS NULL OR period_end IS NULL OR period_start <= period_end)
);
CREATE INDEX campaigns_region_idx ON campaigns (region_id);
COMMENT ON TABLE campaigns IS 'One county''s creation cycle (创建周期) of the rule-of-law government demonstration.';

CREATE TABLE indicators (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id  bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    level        smallint NOT NULL CHECK (level IN (1, 2)),
    -- 1-based; level-2 indicators are numbered through the whole campaign.
    ordinal      integer NOT NULL CHECK (ordinal > 0),
    code         text NOT NULL CHECK (btrim(code) <> ''),
    title        text NOT NULL CHECK (btrim(title) <> ''),
    parent_id    bigint,
    -- A level-2 indicator's parent is a level-1 indicator of the same
    -- campaign; the composite key lets the database check both.
    parent_level smallint GENERATED ALWAYS AS (CASE WHEN level = 2 THEN 1 END) STORED,
    UNIQUE (campaign_id, level, ordinal),
    UNIQUE (campaign_id, level, code),
    UNIQUE (id, campaign_id, level),
    CHECK ((level = 1) = (parent_id IS NULL)),
    FOREIGN KEY (parent_id, campaign_id, parent_level) REFERENCES indicators (id, campaign_id, level)
);
CREATE INDEX indicators_parent_idx ON indicators (parent_id);

CREATE TABLE tasks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id      bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    list             text NOT NULL CHECK (list IN ('basic', 'quantified', 'extended', 'negative')),
    number           integer NOT NULL CHECK (number > 0),
    -- The stable code (B001, Q01, E01, N1) follows from list and number;
    -- TaskList::task_code in duban-dto computes the same, checked by a test.
    code             text NOT NULL GENERATED ALWAYS AS (
        CASE list
            WHEN 'basic' THEN 'B' || lpad(number::text, greatest(3, length(number::text)), '0')
            WHEN 'quantified' THEN 'Q' || lpad(number::text, greatest(2, length(number::text)), '0')
            WHEN 'extended' THEN 'E' || lpad(number::text, greatest(2, length(number::text)), '0')
            ELSE 'N' || number::text
        END) STORED,
    indicator_id     bigint,
    indicator_level  smallint GENERATED ALWAYS AS (CASE WHEN list = 'basic' THEN 2 END) STORED,
    text             text NOT NULL CHECK (btrim(text) <> ''),
    -- The 责任单位 cell as written; NULL where the document leaves it blank.
    responsible_text text CHECK (responsible_text IS NULL OR btrim(responsible_text) <> ''),
    source_line      integer CHECK (source_line > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, list, number),
    UNIQUE (campaign_id, code),
    UNIQUE (id, list),
    -- Basic tasks, and only they, hang under a level-2 indicator of their campaign.
    CHECK ((list = 'basic') = (indicator_id IS NOT NULL)),
    FOREIGN KEY (indicator_id, campaign_id, indicator_level) REFERENCES indicators (id, campaign_id, level)
);
CREATE INDEX tasks_indicator_idx ON tasks (indicator_id);

CREATE TABLE task_targets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id    bigint NOT NULL,
    -- Only quantified tasks have targets: the composite key checks the list.
    task_list  text NOT NULL DEFAULT 'quantified' CHECK (task_list = 'quantified'),
    position   smallint NOT NULL CHECK (position > 0),
    metric     text NOT NULL CHECK (btrim(metric) <> ''),
    comparator text NOT NULL CHECK (comparator IN ('>=', '<=', '=', '>', '<')),
    value      double precision CHECK (value >= 0 AND value < 'Infinity'),
    reference  text CHECK (reference IS NULL OR btrim(reference) <> ''),
    unit       text NOT NULL CHECK (unit IN ('%', '工作日', '日', '小时', '学时', '次', '期', '名', '人', '件')),
    UNIQUE (task_id, position),
    CHECK (value IS NOT NULL OR reference IS NOT NULL),
    FOREIGN KEY (task_id, task_list) REFERENCES tasks (id, list) ON DELETE CASCADE
);

CREATE TABLE units (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id       bigint NOT NULL REFERENCES regions (id),
    name            text NOT NULL CHECK (btrim(name) <> ''),
    kind            text NOT NULL CHECK (kind IN ('party_organ', 'government_department', 'township', 'court_or_procuratorate', 'other')),
    law_enforcement boolean NOT NULL DEFAULT false,
    note            text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region_id, name),
    UNIQUE (id, region_id)
);
CREATE INDEX units_kind_idx ON units (region_id, kind);

CREATE TABLE unit_aliases (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id   bigint NOT NULL,
    region_id bigint NOT NULL,
    alias     text NOT NULL CHECK (btrim(alias) <> ''),
    UNIQUE (region_id, alias),
    FOREIGN KEY (unit_id, region_id) REFERENCES units (id, region_id) ON DELETE CASCADE
);
CREATE INDEX unit_aliases_unit_idx ON unit_aliases (unit_id);

CREATE TABLE unit_groups (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id            bigint NOT NULL REFERENCES regions (id),
    phrase               text NOT NULL CHECK (btrim(phrase) <> ''),
    -- Members: every unit of these kinds (only law-enforcement units when
    -- law_enforcement_only), plus the included, minus the excluded units.
    member_kinds         text[] NOT NULL DEFAULT '{}'
        CHECK (member_kinds <@ ARRAY['party_organ', 'government_department', 'township', 'court_or_procuratorate', 'other']),
    law_enforcement_only boolean NOT NULL DEFAULT false,
    note                 text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (region_id, phrase),
    UNIQUE (id, region_id)
);

CREATE TABLE unit_group_members (
    group_id  bigint NOT NULL,
    unit_id   bigint NOT NULL,
    region_id bigint NOT NULL,
    inclusion text NOT NULL CHECK (inclusion IN ('include', 'exclude')),
    PRIMARY KEY (group_id, unit_id),
    FOREIGN KEY (group_id, region_id) REFERENCES unit_groups (id, region_id) ON DELETE CASCADE,
    FOREIGN KEY (unit_id, region_id) REFERENCES units (id, region_id) ON DELETE CASCADE
);
CREATE INDEX unit_group_members_unit_idx ON unit_group_members (unit_id);

-- The units and groups a task names, in the document's order, each as
-- written and as resolved against the roster.
CREATE TABLE task_parties (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id    bigint NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('lead', 'responsible')),
    position   smallint NOT NULL CHECK (position > 0),
    as_written text NOT NULL CHECK (btrim(as_written) <> ''),
    unit_id    bigint REFERENCES units (id),
    group_id   bigint REFERENCES unit_groups (id),
    UNIQUE (task_id, role, position),
    CHECK ((unit_id IS NULL) <> (group_id IS NULL))
);
CREATE INDEX task_parties_unit_idx ON task_parties (unit_id) WHERE unit_id IS NOT NULL;
CREATE INDEX task_parties_group_idx ON task_parties (group_id) WHERE group_id IS NOT NULL;

-- One unit's work on one task.
CREATE TABLE assignments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id    bigint NOT NULL REFERENCES tasks (id),
    unit_id    bigint NOT NULL REFERENCES units (id),
    role       text NOT NULL CHECK (role IN ('lead', 'responsible')),
    status     text NOT NULL DEFAULT 'not_started'
        CHECK (status IN ('not_started', 'in_progress', 'submitted', 'returned', 'accepted', 'approved')),
    due_date   date,
    -- Incremented on every change; the API's ETag.
    version    integer NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (task_id, unit_id, role)
);
CREATE INDEX assignments_unit_status_idx ON assignments (unit_id, status);
CREATE INDEX assignments_due_idx ON assignments (due_date) WHERE status <> 'approved';
