-- sqlite3 (Debian's source, built static with musl): a database file in minifs (main.db in
-- the working directory) and one in a host mount (mnt/shared.db), with tables, an index,
-- joins, a transaction rolled back and one committed, aggregates and a view.
ATTACH 'mnt/shared.db' AS shared;
CREATE TABLE authors(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE shared.books(id INTEGER PRIMARY KEY, author INTEGER, title TEXT, year INTEGER);
CREATE INDEX shared.books_year ON books(year);
INSERT INTO authors(name) VALUES ('Austen'), ('Dickens'), ('Eliot');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
INSERT INTO shared.books(author, title, year) SELECT 1 + i % 3, 'book ' || i, 1800 + i % 90 FROM n;
BEGIN;
DELETE FROM shared.books WHERE year < 1850;
SELECT 'inside the transaction', count(*) FROM shared.books;
ROLLBACK;
SELECT 'after rollback', count(*) FROM shared.books;
BEGIN;
UPDATE shared.books SET year = year + 100 WHERE author = 2;
INSERT INTO authors(name) VALUES ('Brontë');
COMMIT;
SELECT a.name, count(b.id), min(b.year), max(b.year)
  FROM authors a LEFT JOIN shared.books b ON b.author = a.id GROUP BY a.id ORDER BY a.name;
EXPLAIN QUERY PLAN SELECT title FROM shared.books WHERE year = 1850;
SELECT title FROM shared.books WHERE year = 1850 ORDER BY id;
CREATE TEMP VIEW prolific AS SELECT author, count(*) AS n FROM shared.books GROUP BY author;
SELECT name, n FROM prolific JOIN authors ON authors.id = prolific.author WHERE n > 99;
PRAGMA integrity_check;
PRAGMA shared.integrity_check;
DETACH shared;
VACUUM;
SELECT 'tables', group_concat(name) FROM sqlite_schema WHERE type = 'table';
