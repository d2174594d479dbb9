-- Reference schema of the consortium database (schema public): the tables the
-- shipped policies in policies/ are written for. Load into a fresh database:
--   psql -v ON_ERROR_STOP=1 -f sql/reference-schema.sql
--
-- Columns whose comment starts with "CONFIDENTIAL" hold data that Maine law
-- (27 MRSA §121) makes confidential: patron identity and contact details, and
-- any record linking a patron to the materials, events or computers used.

CREATE TABLE libraries (
    code text PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE patrons (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    library_code    text NOT NULL REFERENCES libraries,
    first_name      text,
    last_name       text,
    address         text,
    phone           text,
    email           text,
    birth_date      date,
    drivers_license text,
    keep_history    boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    library_code text NOT NULL REFERENCES libraries,
    title        text NOT NULL,
    starts_at    timestamptz NOT NULL
);

CREATE TABLE event_attendance (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id      bigint NOT NULL REFERENCES events,
    patron_id     bigint REFERENCES patrons,
    attendee_name text,                     -- walk-ins without a patron record
    library_code  text NOT NULL REFERENCES libraries,
    attended_at   timestamptz NOT NULL
);

CREATE TABLE computer_signups (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    library_code text NOT NULL REFERENCES libraries,
    computer     text NOT NULL,
    patron_id    bigint REFERENCES patrons,
    guest_name   text,                      -- walk-in users without a card
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz
);

CREATE TABLE loans (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    library_code   text NOT NULL REFERENCES libraries,
    patron_id      bigint REFERENCES patrons,
    item_barcode   text NOT NULL,
    checked_out_at timestamptz NOT NULL,
    due_at         timestamptz NOT NULL,
    returned_at    timestamptz,             -- NULL while the item is out
    fines_owed     numeric(8,2) NOT NULL DEFAULT 0,
    status         text NOT NULL DEFAULT 'returned'
                   CHECK (status IN ('out', 'returned', 'lost', 'claims-returned')),
    notes          text
);

-- Age columns (the policies' cutoffs) and patron links (consent, holds, erasure
-- requests, and foreign-key checks when a patron is deleted).
CREATE INDEX event_attendance_attended_at_idx ON event_attendance (attended_at);
CREATE INDEX event_attendance_patron_id_idx   ON event_attendance (patron_id);
CREATE INDEX computer_signups_started_at_idx  ON computer_signups (started_at);
CREATE INDEX computer_signups_patron_id_idx   ON computer_signups (patron_id);
CREATE INDEX loans_returned_at_idx            ON loans (returned_at);
CREATE INDEX loans_patron_id_idx              ON loans (patron_id);
-- The consenting patrons: hashed per purge statement or looked up per row (docs/performance.md).
CREATE INDEX patrons_keep_history_idx         ON patrons (id) WHERE keep_history;

COMMENT ON TABLE libraries        IS 'Member libraries of the consortium.';
COMMENT ON TABLE patrons          IS 'Registered patrons. CONFIDENTIAL (27 MRSA §121): identity and contact details.';
COMMENT ON TABLE events           IS 'Library programs and events.';
COMMENT ON TABLE event_attendance IS 'Attendance lists. CONFIDENTIAL (27 MRSA §121); kept only as long as an operational need requires (policy event-attendance).';
COMMENT ON TABLE computer_signups IS 'Public-computer sign-up sheets. CONFIDENTIAL (27 MRSA §121); kept only as long as an operational need requires (policy computer-signups).';
COMMENT ON TABLE loans            IS 'Circulation. The link between a patron and an item is CONFIDENTIAL (27 MRSA §121); removed after return (policy loan-history).';

COMMENT ON COLUMN patrons.first_name      IS 'CONFIDENTIAL: name';
COMMENT ON COLUMN patrons.last_name       IS 'CONFIDENTIAL: name';
COMMENT ON COLUMN patrons.address         IS 'CONFIDENTIAL: address';
COMMENT ON COLUMN patrons.phone           IS 'CONFIDENTIAL: telephone number';
COMMENT ON COLUMN patrons.email           IS 'CONFIDENTIAL: e-mail address';
COMMENT ON COLUMN patrons.birth_date      IS 'CONFIDENTIAL: birth date';
COMMENT ON COLUMN patrons.drivers_license IS 'CONFIDENTIAL: driver''s licence number';
COMMENT ON COLUMN patrons.keep_history    IS 'Patron opted in to keeping borrowing history (consent for policy loan-history).';

COMMENT ON COLUMN event_attendance.patron_id     IS 'CONFIDENTIAL: which patron attended';
COMMENT ON COLUMN event_attendance.attendee_name IS 'CONFIDENTIAL: name of a walk-in attendee';
COMMENT ON COLUMN computer_signups.patron_id     IS 'CONFIDENTIAL: which patron used the computer';
COMMENT ON COLUMN computer_signups.guest_name    IS 'CONFIDENTIAL: name of a walk-in user';
COMMENT ON COLUMN loans.patron_id                IS 'CONFIDENTIAL: which patron borrowed the item';
COMMENT ON COLUMN loans.notes                    IS 'CONFIDENTIAL: staff notes, may name the patron or what they borrowed';
