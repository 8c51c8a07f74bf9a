"""BigQuery's column types and modes: plain constants, shared by the local cloud and Hangar's
build-time checks (importing this module pulls in nothing else)."""

# Standard SQL spellings map onto the legacy names the BigQuery API reports.
TYPE_ALIASES = {
    "INT64": "INTEGER",
    "FLOAT64": "FLOAT",
    "BOOL": "BOOLEAN",
    "STRUCT": "RECORD",
}
TYPES = (
    "STRING",
    "BYTES",
    "INTEGER",
    "FLOAT",
    "NUMERIC",
    "BIGNUMERIC",
    "BOOLEAN",
    "TIMESTAMP",
    "DATE",
    "TIME",
    "DATETIME",
    "GEOGRAPHY",
    "JSON",
    "INTERVAL",
    "RECORD",
)
MODES = ("NULLABLE", "REQUIRED", "REPEATED")
FIELD_KEYS = frozenset(
    {"name", "type", "mode", "description", "fields", "policyTags", "maxLength", "precision", "scale"}
)
MAX_DEPTH = 15
