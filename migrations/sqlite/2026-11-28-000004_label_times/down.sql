ALTER TABLE resource_label DROP COLUMN set_at;
