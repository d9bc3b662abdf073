-- Areas: a province or city office reads every county in its area, and a
-- county's users never see another county.
--
-- Regions form a tree (省 → 市 → 县). An account belongs to a region, and
-- its area is that region with everything below it. An account without a
-- region (the three administrators, and the county offices of an
-- installation that already ran several counties before this upgrade)
-- reads the whole installation.
ALTER TABLE regions ADD COLUMN parent_id bigint REFERENCES regions (id);
CREATE INDEX regions_parent ON regions (parent_id);
COMMENT ON COLUMN regions.parent_id IS 'The province or city this region lies in; NULL at the top.';

ALTER TABLE users ADD COLUMN region_id bigint REFERENCES regions (id);
COMMENT ON COLUMN users.region_id IS 'The region whose campaigns the account works in or oversees (its area with the regions below); NULL: the whole installation.';

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (
    'system_admin', 'security_admin', 'audit_admin', 'lead_office', 'unit_manager', 'unit_staff', 'inspector', 'area_office'));
ALTER TABLE users ADD CONSTRAINT users_area_office_has_area CHECK (role <> 'area_office' OR region_id IS NOT NULL);

-- A unit's users belong to their unit's county.
UPDATE users SET region_id = units.region_id FROM units WHERE users.unit_id = units.id;
-- In a one-county installation the county's lead office and inspectors
-- belong to that county.
UPDATE users SET region_id = (SELECT id FROM regions)
 WHERE region_id IS NULL AND role IN ('lead_office', 'inspector') AND (SELECT count(*) FROM regions) = 1;

-- A unit user's region is always its unit's, so the two cannot disagree.
CREATE FUNCTION users_region_follows_unit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.unit_id IS NOT NULL THEN
        NEW.region_id := (SELECT region_id FROM units WHERE id = NEW.unit_id);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_region_follows_unit BEFORE INSERT OR UPDATE OF unit_id, region_id ON users
    FOR EACH ROW EXECUTE FUNCTION users_region_follows_unit();
