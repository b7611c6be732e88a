"""Where media bytes live: a small protocol with a local-folder and an S3
implementation, chosen by ``PRESSROOM_MEDIA_URL`` (``file:///path`` or
``s3://bucket/prefix``).

Keys are relative, slash-separated paths like ``images/2018/09/x-1536.png``;
both implementations refuse anything that could escape their root.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from flask import current_app

from app.errors import InvalidInput

MAX_KEY = 500  # the column's length
MAX_PART = 200
_KEY_PART = re.compile(r"^[A-Za-z0-9._@+ -]+$")


class StorageError(InvalidInput):
    """A bad key or a storage failure, with a user-facing message."""


def check_key(key: str) -> str:
    """Normalised key or StorageError: relative, no ``..``, no hidden or odd segments."""
    if not key or "\\" in key or "\x00" in key or key.startswith("/"):
        raise StorageError("Invalid media path.")
    if len(key) > MAX_KEY:
        raise StorageError("Invalid media path.")
    parts = key.split("/")
    for part in parts:
        # 255 bytes is a file name's limit on most file systems (ENAMETOOLONG was a 500).
        if (
            part in ("", ".", "..")
            or part.startswith(".")
            or not _KEY_PART.match(part)
            or len(part.encode()) > MAX_PART
        ):
            raise StorageError("Invalid media path.")
    normalised = posixpath.normpath(key)
    if normalised != key:
        raise StorageError("Invalid media path.")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...
    def public_url(self, key: str) -> str: ...


class LocalStorage:
    """A folder on disk, served by the app at ``/media/<key>``."""

    def __init__(self, root: str | Path, base_url: str) -> None:
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        # Belt and braces against symlinks pointing out of the root.
        if self.root not in path.parents:
            raise StorageError("Invalid media path.")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: readers never see half a file

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise KeyError(key)
        return path.read_bytes()

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def public_url(self, key: str) -> str:
        return f"{self.base_url}/media/{quote(check_key(key))}"


class S3Storage:
    """An S3 bucket (and prefix). boto3 reads credentials, region and
    ``AWS_ENDPOINT_URL_S3`` from the standard environment."""

    def __init__(self, bucket: str, prefix: str = "", public_base: str | None = None, client: Any = None) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or boto3.client("s3")
        if public_base:
            self.public_base = public_base.rstrip("/")
        else:
            endpoint = self.client.meta.endpoint_url.rstrip("/")
            self.public_base = f"{endpoint}/{bucket}" + (f"/{self.prefix}" if self.prefix else "")

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(key),
            Body=data,
            ContentType=content_type,
            CacheControl="public, max-age=31536000, immutable",
        )

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey as exc:
            raise KeyError(key) from exc
        return response["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def public_url(self, key: str) -> str:
        return f"{self.public_base}/{quote(check_key(key))}"


def storage_from_url(url: str, base_url: str, public_base: str | None = None) -> Storage:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalStorage(parts.path, base_url)
    if parts.scheme == "s3":
        return S3Storage(parts.netloc, parts.path, public_base)
    raise StorageError(f"Unsupported PRESSROOM_MEDIA_URL: {url!r} (use file:///path or s3://bucket/prefix)")


def get_storage() -> Storage:
    """The app's storage, built once per app from its config."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.setdefault("pressroom_media", {})
    url = app.config["MEDIA_URL"]
    signature = (url, app.config["BASE_URL"], app.config.get("MEDIA_PUBLIC_URL"))
    if cache.get("signature") != signature:
        cache["storage"] = storage_from_url(url, app.config["BASE_URL"], app.config.get("MEDIA_PUBLIC_URL"))
        cache["signature"] = signature
    return cache["storage"]
