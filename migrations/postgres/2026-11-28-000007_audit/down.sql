DROP TABLE professional_first_access;
