"""Reading a DAG upload within the limits while it streams in.

Django's default upload handlers keep every file of a request (in memory or in temporary files)
before a view sees any of them. This handler counts files and bytes as the multipart body is parsed
and stops at the first one over SHARED_COMPOSER_DAG_LIMIT / SHARED_COMPOSER_DAG_MAX_BYTES, so a
request never holds more than the limit (plus one chunk)."""

import io

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload

# Room for the multipart framing of each file (boundary, headers with the file name) and the form's
# other fields (stage, CSRF token), when a request's Content-Length is compared with the byte limit.
PART_OVERHEAD = 1024
FORM_OVERHEAD = 16 * 1024


def too_large(content_length: int, *, max_files: int, max_bytes: int) -> bool:
    """Whether a request this long cannot be within the limits, whatever it holds."""
    return content_length > max_bytes + max_files * PART_OVERHEAD + FORM_OVERHEAD


class DagUploadHandler(FileUploadHandler):
    """Keeps the files of field `field` in memory, at most `max_files` of them and `max_bytes` in all.

    Over a limit it stops reading the request and sets `problem`; the view reports it."""

    def __init__(self, request=None, *, field: str, max_files: int, max_bytes: int):
        super().__init__(request)
        self.field, self.max_files, self.max_bytes = field, max_files, max_bytes
        self.count = 0
        self.total = 0
        self.problem = ""

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != self.field:
            raise SkipFile()
        self.count += 1
        if self.count > self.max_files:
            self.problem = f"More than {self.max_files} DAG files; a member may have at most {self.max_files}."
            raise StopUpload(connection_reset=True)
        self.file = io.BytesIO()

    def receive_data_chunk(self, raw_data, start):
        self.total += len(raw_data)
        if self.total > self.max_bytes:
            self.problem = f"More than {self.max_bytes} bytes of DAGs; a member may have at most {self.max_bytes}."
            raise StopUpload(connection_reset=True)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.seek(0)
        return InMemoryUploadedFile(
            self.file, self.field_name, self.file_name, self.content_type, file_size, self.charset
        )
