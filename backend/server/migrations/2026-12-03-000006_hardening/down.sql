ALTER TABLE blobs DROP COLUMN corrupted_at;
DROP TABLE sign_in_throttle;
