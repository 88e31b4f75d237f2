-- Issue 13: the users list of a large school (R-ADM-1), paged in SQL.

-- A school's people in the order the list shows them (last name, first
-- name, id), so a page of 50 out of 10,000 reads 50 index entries.
CREATE INDEX users_school_name ON users(school_id, LOWER(last_name), LOWER(first_name), id);

-- A person's classes (the class filter, one user's page, every actor's
-- taught classes): the primary keys lead with the class, not the person.
CREATE INDEX class_learners_user ON class_learners(user_id);
CREATE INDEX class_teachers_user ON class_teachers(user_id);
