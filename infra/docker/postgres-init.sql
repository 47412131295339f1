-- Run once by the postgres image on an empty volume (docker-compose.yml).
-- POSTGRES_USER/POSTGRES_DB already created role flashdrop and database flashdrop.
ALTER ROLE flashdrop CREATEDB;
CREATE DATABASE flashdrop_test OWNER flashdrop;
