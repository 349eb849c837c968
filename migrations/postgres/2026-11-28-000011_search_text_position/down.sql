DROP TABLE search_position;
DROP TABLE search_text;
