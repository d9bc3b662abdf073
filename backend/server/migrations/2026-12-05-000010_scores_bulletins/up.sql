-- How each campaign is scored (duban_dto::api::ScoringScheme as JSON);
-- a campaign without a row uses the default scheme.
CREATE TABLE scoring_schemes (
    campaign_id bigint PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    scheme jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by bigint REFERENCES users (id)
);

-- Bulletins (通报). A draft's figures are computed when it is shown; when
-- it is issued its inputs, its .docx and the document's SHA-256 are frozen
-- here, and the trigger below refuses any later change (the PDF rendered
-- from the frozen .docx may be added once).
CREATE TABLE bulletins (
    id bigserial PRIMARY KEY,
    campaign_id bigint NOT NULL REFERENCES campaigns (id),
    period text NOT NULL CHECK (period IN ('week', 'month', 'quarter', 'special')),
    from_day date NOT NULL,
    as_of date NOT NULL,
    state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'issued')),
    title text NOT NULL,
    addressees text NOT NULL,
    summary text NOT NULL DEFAULT '',
    requirements text NOT NULL DEFAULT '',
    created_by bigint REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    year int,
    number int,
    doc_number text,
    issued_by bigint REFERENCES users (id),
    issued_at timestamptz,
    inputs jsonb,
    docx bytea,
    sha256 bytea,
    pdf bytea,
    version int NOT NULL DEFAULT 1,
    UNIQUE (campaign_id, year, number),
    CHECK (from_day <= as_of),
    CHECK ((state = 'issued') = (issued_at IS NOT NULL AND inputs IS NOT NULL AND docx IS NOT NULL
                                 AND sha256 IS NOT NULL AND doc_number IS NOT NULL))
);
CREATE INDEX bulletins_campaign_idx ON bulletins (campaign_id, id);

CREATE FUNCTION bulletins_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.state = 'issued' THEN
        IF TG_OP = 'UPDATE' AND OLD.pdf IS NULL AND NEW.pdf IS NOT NULL
           AND (NEW.id, NEW.campaign_id, NEW.period, NEW.from_day, NEW.as_of, NEW.state, NEW.title, NEW.addressees,
                NEW.summary, NEW.requirements, NEW.year, NEW.number, NEW.doc_number, NEW.issued_by, NEW.issued_at,
                NEW.inputs, NEW.docx, NEW.sha256, NEW.version)
               IS NOT DISTINCT FROM
               (OLD.id, OLD.campaign_id, OLD.period, OLD.from_day, OLD.as_of, OLD.state, OLD.title, OLD.addressees,
                OLD.summary, OLD.requirements, OLD.year, OLD.number, OLD.doc_number, OLD.issued_by, OLD.issued_at,
                OLD.inputs, OLD.docx, OLD.sha256, OLD.version) THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'bulletin % is issued and frozen', OLD.id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER bulletins_frozen BEFORE UPDATE OR DELETE ON bulletins
    FOR EACH ROW EXECUTE FUNCTION bulletins_frozen();
