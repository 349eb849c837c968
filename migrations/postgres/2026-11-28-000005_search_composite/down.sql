DROP TABLE search_composite;
