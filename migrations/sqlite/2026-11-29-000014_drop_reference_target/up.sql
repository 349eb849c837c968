-- No index on a reference's target alone: every lookup by target names the type and
-- parameter holding the reference (reverse chains, `_revinclude`, whose wildcards are
-- expanded into every reference parameter, `_list`, the Consents of a record), which the
-- lookup index (res_type, param, target_id) serves. This index cost every reference row a
-- write on a random page: the AuditEvent of a search names each patient it returned.
DROP INDEX search_reference_target;
