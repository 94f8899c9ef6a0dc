"""Objects in an S3-compatible bucket through boto3; every botocore error becomes StorageError
(or NotFoundError for a missing key) with the bucket and key named."""

from __future__ import annotations

from lse.errors import NotFoundError, StorageError
from lse.objects.base import check_key

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3ObjectStore:
    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=60),
        )

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, action: str, key: str, exc: Exception) -> StorageError:
        return StorageError(
            f"object store: cannot {action} s3://{self.bucket}/{self._key(key)}: {exc} "
            "(check LSE_OBJECT_STORE_URL, LSE_S3_ENDPOINT_URL and the AWS credentials)"
        )

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {"ContentType": content_type} if content_type else {}
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("write", key, exc) from exc
        return self.url_for(key)

    def get_bytes(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise NotFoundError(f"object s3://{self.bucket}/{self._key(key)} not found") from exc
            raise self._fail("read", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("read", key, exc) from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise self._fail("check", key, exc) from exc
        except BotoCoreError as exc:
            raise self._fail("check", key, exc) from exc

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("delete", key, exc) from exc

    def url_for(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def key_of(self, url: str) -> str | None:
        head = f"s3://{self.bucket}/" + (f"{self.prefix}/" if self.prefix else "")
        return url[len(head) :] if url.startswith(head) else None

    def presigned_url(self, key: str, expires_s: int) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self._key(key)}, ExpiresIn=expires_s
            )
        except (BotoCoreError, ClientError) as exc:
            raise self._fail("sign a URL for", key, exc) from exc

    def public_url(self, url: str) -> str | None:
        return url if url.startswith("s3://") else None
