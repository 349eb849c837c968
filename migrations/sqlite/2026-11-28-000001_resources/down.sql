DROP TABLE search_token;
DROP TABLE current_resources;
DROP TABLE resource_versions;
