-- Issue 15: the language a person chose for keyward's pages and the emails
-- sent to them (`en`, `es`: i18n::Locale's codes). NULL: pages follow the
-- browser's Accept-Language, emails are in English.
ALTER TABLE users ADD COLUMN locale TEXT;
