-- Text search (search.html#_text, #_content): per resource, the words of its narrative
-- (`param` `_text`) and of all its text (`_content`), normalised (lower case, accents
-- removed), each once, as ' word1 word2 … ' so that a word is matched by
-- LIKE '% word %'. `words` can be long: no index on it (a btree on a long text fails on
-- PostgreSQL past its row-size limit); searches scan the rows of the types searched.
CREATE TABLE search_text (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    words TEXT NOT NULL,
    PRIMARY KEY (res_type, res_id, param)
);

-- `near` (Location.position): WGS84 degrees. The lookup index serves the bounding box
-- on latitude; the distance is computed from the two columns.
CREATE TABLE search_position (
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    param TEXT NOT NULL,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (res_type, res_id, param)
);
CREATE INDEX search_position_lookup ON search_position (res_type, param, latitude);
