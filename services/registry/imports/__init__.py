"""The import pipeline of the registries: XLSX/CSV in, all-or-nothing, set-based.

* ``source``: reads an upload as CSV bytes for COPY (and refuses what is not a spreadsheet): encoding, separator,
  the header row among the first rows, blank tails;
* ``sheet``: untrusted XLSX converted to that CSV by a child process (``sheet_child.py``) under memory, CPU and time
  limits, bounded before reading; ``headers``: the header row and staff's own wording of it;
* ``annotate``: the copy of a rejected file with its bad cells marked and a 错误说明 column;
* ``bulk``: COPY into a staging table, validation in a few scans, then the merge;
* ``kinds``: what each registry's import checks; ``merge``: the set-based statements that write the registries;
* ``pipeline``: ``import_file``, the one entry every path ends in (request, job, CLI), with its audit event;
* ``batches``: the upload use case (import now or queue), the job's work, batch history and progress.

This package keeps its COPY-specific SQL by design (bulk load): ``bulk``, ``kinds`` and ``merge`` run on the raw
asyncpg connection under the caller's transaction — temporary staging tables, COPY, statements composed over the
staging table — which the session-based repository cannot express. Every other statement of the pipeline (batches,
stored files, the per-registry lock) is in ``repository_imports``.
"""

from services.registry.imports.batches import ImportOutcome, Upload, enqueue_import, start_import
from services.registry.imports.bulk import ImportReport, RowError
from services.registry.imports.pipeline import JOB_THRESHOLD_BYTES, ImportRejected, import_file, summary
from services.registry.imports.source import FileRejected, open_table

__all__ = [
    "JOB_THRESHOLD_BYTES",
    "FileRejected",
    "ImportOutcome",
    "ImportRejected",
    "ImportReport",
    "RowError",
    "Upload",
    "enqueue_import",
    "import_file",
    "open_table",
    "start_import",
    "summary",
]
