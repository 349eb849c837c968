DROP TABLE resource_fact;
