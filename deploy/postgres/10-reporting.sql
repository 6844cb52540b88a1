-- Run once by the postgres image on an empty data directory (docker-compose.yml): the reporting
-- consumers write their tables into a database of their own, beside the event store's.
CREATE DATABASE reporting OWNER channel;
