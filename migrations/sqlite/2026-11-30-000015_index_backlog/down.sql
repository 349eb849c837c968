DROP TABLE index_backlog;
