DROP TRIGGER users_region_follows_unit ON users;
DROP FUNCTION users_region_follows_unit();
DELETE FROM users WHERE role = 'area_office';
ALTER TABLE users DROP CONSTRAINT users_area_office_has_area;
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN (
    'system_admin', 'security_admin', 'audit_admin', 'lead_office', 'unit_manager', 'unit_staff', 'inspector'));
ALTER TABLE users DROP COLUMN region_id;
ALTER TABLE regions DROP COLUMN parent_id;
