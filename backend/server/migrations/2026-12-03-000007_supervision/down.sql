DROP TABLE outbox_attempts;
DROP TABLE outbox;
DROP TABLE endpoints;
DROP TABLE reminders_sent;
ALTER TABLE assignments DROP COLUMN urged;
DROP TABLE notice_events;
DROP TABLE notice_recipients;
DROP TABLE notice_files;
DROP TABLE notices;
DROP TABLE notice_numbers;
DROP TABLE campaign_documents;
DROP TABLE unit_leaders;
DROP TABLE channel_preferences;
ALTER TABLE users DROP COLUMN phone;
ALTER TABLE users DROP COLUMN email;
DELETE FROM notifications WHERE kind NOT IN ('assigned', 'returned', 'accepted', 'approved', 'submitted', 'due_soon', 'overdue');
CREATE UNIQUE INDEX notifications_deadline_once ON notifications (user_id, assignment_id, kind, due_date)
    WHERE kind IN ('due_soon', 'overdue');
ALTER TABLE notifications DROP COLUMN notice_id;
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('assigned', 'returned', 'accepted', 'approved', 'submitted', 'due_soon', 'overdue'));
