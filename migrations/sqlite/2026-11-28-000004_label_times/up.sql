-- When each security label was set on its resource (the time of the first version that
-- carried it since it was last absent): INVISIBLE_PATIENT expires a set time after it.
-- Rows that exist already get 0 (set long ago).
ALTER TABLE resource_label ADD COLUMN set_at BIGINT NOT NULL DEFAULT 0;
