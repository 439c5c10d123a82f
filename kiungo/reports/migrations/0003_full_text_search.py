"""Full-text indexes of report sections and alert texts, kept up to date by the database.

SQLite: FTS5 tables (accent-insensitive unicode61 tokenizer) whose rowid is the report's or
alert's id, filled by triggers from the section texts (json_each decodes the JSON) and the alert
text. PostgreSQL: GIN expression indexes on to_tsvector('simple', ...) of the texts folded to
lower case without accents (two small IMMUTABLE SQL functions). kiungo.reports.search queries them.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE reports_report_fts USING fts5("
    "body, tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO reports_report_fts(rowid, body) SELECT id, "
    "(SELECT group_concat(value, ' ') FROM json_each(sections)) FROM reports_report",
    "CREATE TRIGGER reports_report_fts_insert AFTER INSERT ON reports_report BEGIN "
    "INSERT INTO reports_report_fts(rowid, body) VALUES (new.id, "
    "(SELECT group_concat(value, ' ') FROM json_each(new.sections))); END",
    "CREATE TRIGGER reports_report_fts_update AFTER UPDATE OF sections ON reports_report BEGIN "
    "DELETE FROM reports_report_fts WHERE rowid = old.id; "
    "INSERT INTO reports_report_fts(rowid, body) VALUES (new.id, "
    "(SELECT group_concat(value, ' ') FROM json_each(new.sections))); END",
    "CREATE TRIGGER reports_report_fts_delete AFTER DELETE ON reports_report BEGIN "
    "DELETE FROM reports_report_fts WHERE rowid = old.id; END",
    "CREATE VIRTUAL TABLE alerts_alert_fts USING fts5("
    "body, tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO alerts_alert_fts(rowid, body) SELECT id, text FROM alerts_alert",
    "CREATE TRIGGER alerts_alert_fts_insert AFTER INSERT ON alerts_alert BEGIN "
    "INSERT INTO alerts_alert_fts(rowid, body) VALUES (new.id, new.text); END",
    "CREATE TRIGGER alerts_alert_fts_update AFTER UPDATE OF text ON alerts_alert BEGIN "
    "DELETE FROM alerts_alert_fts WHERE rowid = old.id; "
    "INSERT INTO alerts_alert_fts(rowid, body) VALUES (new.id, new.text); END",
    "CREATE TRIGGER alerts_alert_fts_delete AFTER DELETE ON alerts_alert BEGIN "
    "DELETE FROM alerts_alert_fts WHERE rowid = old.id; END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS alerts_alert_fts_delete",
    "DROP TRIGGER IF EXISTS alerts_alert_fts_update",
    "DROP TRIGGER IF EXISTS alerts_alert_fts_insert",
    "DROP TABLE IF EXISTS alerts_alert_fts",
    "DROP TRIGGER IF EXISTS reports_report_fts_delete",
    "DROP TRIGGER IF EXISTS reports_report_fts_update",
    "DROP TRIGGER IF EXISTS reports_report_fts_insert",
    "DROP TABLE IF EXISTS reports_report_fts",
]
# kiungo_fold: lower case without the accents of the mission languages written in Latin script,
# so that "deplaces" finds "déplacés" (as SQLite's remove_diacritics does); IMMUTABLE, for the
# expression indexes. kiungo_report_text: a report's section texts (the JSON's values only).
FOLD_FROM = "àáâäãåçèéêëìíîïñòóôöõùúûüýÿ"
FOLD_TO = "aaaaaaceeeeiiiinooooouuuuyy"
POSTGRES_FORWARD = [
    "CREATE FUNCTION kiungo_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
    f"AS $$ SELECT translate(lower(t), '{FOLD_FROM}', '{FOLD_TO}') $$",
    "CREATE FUNCTION kiungo_report_text(s jsonb) RETURNS text LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE AS $$ SELECT kiungo_fold(coalesce(string_agg(value, ' '), '')) "
    "FROM jsonb_each_text(s) $$",
    "CREATE INDEX reports_report_fts ON reports_report "
    "USING gin (to_tsvector('simple'::regconfig, kiungo_report_text(sections)))",
    "CREATE INDEX alerts_alert_fts ON alerts_alert "
    "USING gin (to_tsvector('simple'::regconfig, kiungo_fold(text)))",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS alerts_alert_fts",
    "DROP INDEX IF EXISTS reports_report_fts",
    "DROP FUNCTION IF EXISTS kiungo_report_text(jsonb)",
    "DROP FUNCTION IF EXISTS kiungo_fold(text)",
]


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_consolidated_report"),
        ("alerts", "0004_incident_response"),
    ]

    operations = [migrations.RunPython(forward, backward)]
