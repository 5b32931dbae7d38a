"""An encrypting wrapper: any StorageAdapter, with data at rest sealed by AES-256-GCM.

:class:`EncryptedStorage` wraps another adapter (typically the client's SQLite file)
and seals everything that carries user data before it reaches the inner store:

* record values (LWW and OR; tombstones stay ``None`` so deletes remain visible to the
  store's own bookkeeping),
* key/value documents,
* op-log payloads.

Map names, keys, tags, timestamps and TTLs stay in clear: the store needs them to
index, order and prune, and the server sees them anyway. Meta values are not sealed.

Each sealed blob is ``version (1 byte) || nonce (12 random bytes) || ciphertext+tag``.
The *associated data* binds a blob to where it belongs — ``lww\\0map\\0key``,
``or\\0map\\0tag``, ``kv\\0namespace\\0key``, ``oplog`` — so a blob copied into another
row fails authentication instead of silently moving a value. A blob that fails to
open (tampered, moved, or a wrong key) is a :class:`~topgun_core.errors.StorageError`
naming the map and key.

The key is 32 bytes, given directly or derived from a passphrase with scrypt
(stdlib ``hashlib.scrypt``; the random salt is kept in the store's meta). On open the
wrapper checks a sealed marker in meta, so a wrong key or passphrase is refused at
once rather than at the first read.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from topgun_adapters._codec import corrupt, decode_value, encode_value, invalid
from topgun_core.errors import StorageError
from topgun_core.lww_map import LWWRecord
from topgun_core.or_map import ORRecord
from topgun_core.storage import MapKind, OpLogEntry, ORSnapshot, StorageAdapter, WriteBatch
from topgun_core.values import JsonValue

__all__ = ["KEY_BYTES", "EncryptedStorage", "derive_key"]

KEY_BYTES = 32
"""AES-256: the key length in bytes."""

_VERSION = b"\x01"
_NONCE_BYTES = 12
_SALT_META = "encryption_salt"
_CHECK_META = "encryption_check"
_CHECK_PLAINTEXT = b"topgun-encryption-check"
_SCRYPT_N = 2**15
_SCRYPT_R = 8
_SCRYPT_P = 1
_SCRYPT_MAXMEM_BYTES = 64 * 1024 * 1024

_T3 = TypeVar("_T3", bound=tuple[object, object, object])


def derive_key(passphrase: str, salt: bytes) -> bytes:
    """A 32-byte key from ``passphrase`` and ``salt`` (scrypt, N=2**15, r=8, p=1)."""
    if not passphrase:
        raise ValueError("the passphrase must not be empty")
    return hashlib.scrypt(
        passphrase.encode("utf-8"),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM_BYTES,
        dklen=KEY_BYTES,
    )


def _ad(*parts: str) -> bytes:
    return "\x00".join(parts).encode("utf-8", "surrogatepass")


class EncryptedStorage:
    """A :class:`~topgun_core.storage.StorageAdapter` sealing values with AES-256-GCM.

    Give exactly one of ``key`` (32 bytes) or ``passphrase``.
    """

    def __init__(
        self, inner: StorageAdapter, *, key: bytes | None = None, passphrase: str | None = None
    ) -> None:
        if (key is None) == (passphrase is None):
            raise ValueError("give exactly one of key= or passphrase=")
        if key is not None and len(key) != KEY_BYTES:
            raise ValueError(f"an AES-256 key is {KEY_BYTES} bytes, got {len(key)}")
        self._inner = inner
        self._key = key
        self._passphrase = passphrase
        self._aead: AESGCM | None = None

    # ------------------------------------------------------------------ sealing

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            raise StorageError("encrypted storage is not open")
        return self._aead

    def _seal(self, plaintext: bytes, ad: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _VERSION + nonce + self._cipher().encrypt(nonce, plaintext, ad)

    def _open_blob(self, blob: object, ad: bytes, where: str) -> bytes:
        if not isinstance(blob, bytes) or len(blob) < 1 + _NONCE_BYTES + 16:
            raise corrupt(where, "sealed value is missing or truncated")
        if blob[:1] != _VERSION:
            raise corrupt(where, "sealed value has an unknown format version")
        nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            return self._cipher().decrypt(nonce, body, ad)
        except InvalidTag:
            raise corrupt(where, "sealed value fails authentication") from None

    def _seal_value(self, value: JsonValue, ad: bytes, what: str) -> bytes | None:
        if value is None:
            return None
        return self._seal(encode_value(value, what), ad)

    def _open_value(self, blob: object, ad: bytes, where: str) -> JsonValue:
        if blob is None:
            return None
        return decode_value(self._open_blob(blob, ad, where), where)

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Open the inner store, derive the key if needed, and verify it."""
        await self._inner.open()
        key = self._key if self._key is not None else await self._passphrase_key()
        self._aead = AESGCM(key)
        marker = await self._inner.get_meta(_CHECK_META)
        if marker is None:
            sealed = self._seal(_CHECK_PLAINTEXT, _ad("check"))
            await self._inner.set_meta(_CHECK_META, base64.b64encode(sealed).decode("ascii"))
            return
        try:
            ok = self._open_blob(base64.b64decode(marker), _ad("check"), "key check")
        except (StorageError, ValueError):
            ok = b""
        if ok != _CHECK_PLAINTEXT:
            self._aead = None
            error = StorageError("encrypted storage: wrong key or passphrase for this store")
            error.retryable = False
            raise error

    async def _passphrase_key(self) -> bytes:
        assert self._passphrase is not None
        salt_text = await self._inner.get_meta(_SALT_META)
        if salt_text is None:
            salt = secrets.token_bytes(16)
            await self._inner.set_meta(_SALT_META, salt.hex())
        else:
            salt = bytes.fromhex(salt_text)
        return derive_key(self._passphrase, salt)

    async def close(self) -> None:
        """Close the inner store and forget the cipher."""
        self._aead = None
        await self._inner.close()

    async def ping(self) -> None:
        """Ping the inner store."""
        await self._inner.ping()

    async def get_meta(self, key: str) -> str | None:
        """Meta values pass through unsealed."""
        return await self._inner.get_meta(key)

    async def set_meta(self, key: str, value: str) -> None:
        """Meta values pass through unsealed."""
        await self._inner.set_meta(key, value)

    async def map_kinds(self) -> dict[str, MapKind]:
        """The inner store's map kinds."""
        return await self._inner.map_kinds()

    # ------------------------------------------------------------------ records

    async def load_lww(self, map_name: str) -> list[tuple[str, LWWRecord]]:
        """Load and unseal every record of an LWW map."""
        self._cipher()
        rows = await self._inner.load_lww(map_name)
        return [
            (key, rec._replace(value=self._lww_value(map_name, key, rec.value)))
            for key, rec in rows
        ]

    def _lww_value(self, map_name: str, key: str, blob: object) -> JsonValue:
        where = f"map {map_name!r} key {key!r}"
        return self._open_value(blob, _ad("lww", map_name, key), where)

    async def load_or(self, map_name: str) -> ORSnapshot:
        """Load and unseal every record of an OR map (tombstones carry no value)."""
        self._cipher()
        snap = await self._inner.load_or(map_name)
        records = []
        for key, rec in snap.records:
            where = f"map {map_name!r} key {key!r}"
            value = self._open_value(rec.value, _ad("or", map_name, rec.tag), where)
            records.append((key, rec._replace(value=value)))
        return ORSnapshot(records=records, tombstones=snap.tombstones)

    async def apply(self, batch: WriteBatch) -> list[int]:
        """Seal the batch's values, documents and op-log payloads, then apply it."""
        if not isinstance(batch, WriteBatch):
            raise invalid("apply takes a WriteBatch")
        sealed = WriteBatch(
            map_kinds=batch.map_kinds,
            lww_upserts=[self._seal_lww(i, e) for i, e in enumerate(batch.lww_upserts)],
            lww_deletes=batch.lww_deletes,
            or_upserts=[self._seal_or(i, e) for i, e in enumerate(batch.or_upserts)],
            or_deletes=batch.or_deletes,
            or_tombstones=batch.or_tombstones,
            or_tombstone_deletes=batch.or_tombstone_deletes,
            kv_puts=[self._seal_kv(i, e) for i, e in enumerate(batch.kv_puts)],
            kv_deletes=batch.kv_deletes,
            oplog_appends=[self._seal_op(i, p) for i, p in enumerate(batch.oplog_appends)],
        )
        return await self._inner.apply(sealed)

    def _seal_lww(self, i: int, entry: tuple[str, str, LWWRecord]) -> tuple[str, str, LWWRecord]:
        map_name, key, rec = _triple(entry, f"lww_upserts[{i}]")
        ad = _ad("lww", _text(map_name), _text(key))
        return (
            map_name,
            key,
            rec._replace(value=self._seal_value(rec.value, ad, f"lww_upserts[{i}]")),
        )

    def _seal_or(self, i: int, entry: tuple[str, str, ORRecord]) -> tuple[str, str, ORRecord]:
        map_name, key, rec = _triple(entry, f"or_upserts[{i}]")
        ad = _ad("or", _text(map_name), _text(getattr(rec, "tag", "")))
        value = self._seal_value(getattr(rec, "value", None), ad, f"or_upserts[{i}]")
        if value is None:
            raise invalid(f"or_upserts[{i}]: an OR record needs a value")
        return map_name, key, rec._replace(value=value)

    def _seal_kv(self, i: int, entry: tuple[str, str, bytes]) -> tuple[str, str, bytes]:
        namespace, key, value = _triple(entry, f"kv_puts[{i}]")
        if not isinstance(value, bytes):
            raise invalid(f"kv_puts[{i}] value must be bytes")
        return namespace, key, self._seal(value, _ad("kv", _text(namespace), _text(key)))

    def _seal_op(self, i: int, payload: bytes) -> bytes:
        if not isinstance(payload, bytes):
            raise invalid(f"oplog_appends[{i}] must be bytes")
        return self._seal(payload, _ad("oplog"))

    async def clear_map(self, map_name: str) -> None:
        """Clear a map in the inner store."""
        await self._inner.clear_map(map_name)

    # ------------------------------------------------------------------ documents, op log

    async def kv_get(self, namespace: str, key: str) -> bytes | None:
        """One document, unsealed."""
        self._cipher()
        blob = await self._inner.kv_get(namespace, key)
        where = f"kv {namespace!r} key {key!r}"
        return None if blob is None else self._open_blob(blob, _ad("kv", namespace, key), where)

    async def kv_scan(self, namespace: str) -> Mapping[str, bytes]:
        """Every document in a namespace, unsealed."""
        self._cipher()
        found = await self._inner.kv_scan(namespace)
        return {
            key: self._open_blob(blob, _ad("kv", namespace, key), f"kv {namespace!r} key {key!r}")
            for key, blob in found.items()
        }

    async def oplog_append(self, payloads: Sequence[bytes]) -> list[int]:
        """Seal and append op-log payloads."""
        return await self._inner.oplog_append([self._seal_op(i, p) for i, p in enumerate(payloads)])

    async def oplog_read(self, after_id: int, limit: int) -> list[OpLogEntry]:
        """Read and unseal op-log entries."""
        self._cipher()
        entries = await self._inner.oplog_read(after_id, limit)
        return [
            OpLogEntry(e.id, self._open_blob(e.payload, _ad("oplog"), f"op log entry {e.id}"))
            for e in entries
        ]

    async def oplog_trim(self, through_id: int) -> int:
        """Trim the inner op log."""
        return await self._inner.oplog_trim(through_id)

    async def oplog_count(self) -> int:
        """Entries in the inner op log."""
        return await self._inner.oplog_count()


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise invalid("names, keys and tags must be str")
    return value


def _triple(entry: _T3, what: str) -> _T3:
    try:
        _first, _second, _third = entry  # a caller may pass any shape despite the type
    except (TypeError, ValueError):
        raise invalid(f"{what} must be a 3-tuple") from None
    return entry
