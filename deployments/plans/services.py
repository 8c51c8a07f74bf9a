"""What a plan's review needs from the cloud: how many rows a table holds before it is destroyed."""

from localcloud.errors import LocalCloudError
from portal.localcloud import operator_client


def table_row_count(project_id: str, dataset_id: str, table_id: str) -> int | None:
    """Rows of a table in the local cloud (the table GET's `num_rows`); None when it cannot be told
    (no such table, the service unreachable): the warning then says the count is unknown."""
    try:
        view = operator_client().get_table(project_id, dataset_id, table_id)
    except (LocalCloudError, OSError):
        return None
    rows = view.get("num_rows") if isinstance(view, dict) else None
    return rows if isinstance(rows, int) and not isinstance(rows, bool) else None
