CREATE INDEX search_reference_target ON search_reference (target_type, target_id);
