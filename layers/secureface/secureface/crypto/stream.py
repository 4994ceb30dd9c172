"""Segmented streaming AEAD for model delivery (the STREAM construction).

Like Tink's AES-GCM-HKDF streaming: the plaintext is cut into fixed-size segments, each sealed
with AES-256-GCM under a per-stream key, with nonce ``prefix(7) ‖ index(4, big-endian) ‖
last(1)`` and the stream header as associated data. This detects a flipped bit (tag), reordering
(index in the nonce), truncation (the last segment alone carries ``last = 1``, and the header
fixes the segment count), and splicing between sessions or models (per-stream key).

Header (32 bytes, bound as AAD to every segment)::

    magic "SFS1" | segment_size u32 | plaintext_size u64 | segment_count u32
    | nonce_prefix 7 bytes | 5 zero bytes

The stream key and nonce prefix are derived deterministically from the session's model key and
the model's identity (name, version, SHA-256), so parallel range requests served by different
instances produce byte-identical streams without shared state, and a key never seals two
different plaintexts under one nonce.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from secureface.crypto.kdf import hkdf_sha256
from secureface.errors import IntegrityError

MAGIC = b"SFS1"
HEADER_LEN = 32
TAG_LEN = 16
PREFIX_LEN = 7
DEFAULT_SEGMENT_SIZE = 1 << 20
MIN_SEGMENT_SIZE = 16 * 1024
MAX_SEGMENT_SIZE = 8 << 20
_HEADER = struct.Struct(">4sIQI7s5x")


@dataclass(frozen=True)
class StreamHeader:
    """The parsed stream header."""

    segment_size: int
    plaintext_size: int
    segment_count: int
    nonce_prefix: bytes

    def encode(self) -> bytes:
        """The 32 header bytes."""
        return _HEADER.pack(
            MAGIC, self.segment_size, self.plaintext_size, self.segment_count, self.nonce_prefix
        )

    @classmethod
    def decode(cls, data: bytes) -> StreamHeader:
        """Parse and sanity-check a header.

        Raises:
            IntegrityError: wrong length or magic, or inconsistent sizes.
        """
        if len(data) != HEADER_LEN:
            raise IntegrityError(reason="stream header has the wrong length")
        magic, seg, size, count, prefix = _HEADER.unpack(data)
        if magic != MAGIC or data[-5:] != bytes(5):
            raise IntegrityError(reason="stream header magic is wrong")
        if not MIN_SEGMENT_SIZE <= seg <= MAX_SEGMENT_SIZE or count != segment_count(size, seg):
            raise IntegrityError(reason="stream header sizes are inconsistent")
        return cls(segment_size=seg, plaintext_size=size, segment_count=count, nonce_prefix=prefix)

    def ciphertext_len(self, index: int) -> int:
        """Bytes of sealed segment ``index``."""
        if index < self.segment_count - 1:
            return self.segment_size + TAG_LEN
        return self.plaintext_size - self.segment_size * (self.segment_count - 1) + TAG_LEN


def segment_count(plaintext_size: int, segment_size: int) -> int:
    """Number of segments for a plaintext (at least one, even when empty)."""
    return max(1, -(-plaintext_size // segment_size))


def stream_keys(model_key: bytes, stream_id: bytes) -> tuple[bytes, bytes]:
    """The stream key and nonce prefix for ``stream_id`` under a session's model key."""
    okm = hkdf_sha256(
        model_key,
        salt=b"",
        info=b"secureface/v1/model-stream\x00" + stream_id,
        length=32 + PREFIX_LEN,
    )
    return okm[:32], okm[32:]


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def _seal_into(key: bytes, nonce: bytes, aad: bytes, chunk: memoryview, out: memoryview) -> int:
    """AES-256-GCM ``chunk`` into ``out`` followed by its tag; returns the bytes written.

    ``out`` must have 15 bytes of slack past ``len(chunk) + 16`` (``update_into``'s rule). The
    streaming ``Cipher`` interface writing into one preallocated buffer is several times faster
    than the one-shot ``AESGCM`` on megabyte segments (no per-call allocation and copy); see
    docs/BENCHMARKS.md.
    """
    encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    written = encryptor.update_into(chunk, out) if len(chunk) else 0
    encryptor.finalize()
    out[written : written + TAG_LEN] = encryptor.tag
    return written + TAG_LEN


class StreamSealer:
    """Seals one plaintext as a stream; any range of segments can be produced independently."""

    def __init__(
        self,
        model_key: bytes,
        stream_id: bytes,
        plaintext: bytes,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
    ) -> None:
        self._key, prefix = stream_keys(model_key, stream_id)
        self._plaintext = memoryview(plaintext)
        count = segment_count(len(plaintext), segment_size)
        self.header = StreamHeader(segment_size, len(plaintext), count, prefix)
        self.header_bytes = self.header.encode()

    def seal(self, index: int) -> bytes:
        """Sealed segment ``index``.

        Raises:
            IndexError: ``index`` is outside the stream.
        """
        return bytes(self.seal_range(index, 1))

    def seal_range(self, first: int, count: int, *, with_header: bool = False) -> bytearray:
        """Sealed segments ``first`` .. ``first + count - 1``, concatenated, written into one
        buffer (optionally after the header) so a response is built without copies.

        Raises:
            IndexError: the range is empty or leaves the stream.
        """
        h = self.header
        if count < 1 or first < 0 or first + count > h.segment_count:
            raise IndexError((first, count))
        offset = HEADER_LEN if with_header else 0
        total = offset + sum(h.ciphertext_len(i) for i in range(first, first + count))
        out = bytearray(total + 15)
        with memoryview(out) as view:
            view[:offset] = self.header_bytes[:offset]
            for index in range(first, first + count):
                chunk = self._plaintext[index * h.segment_size : (index + 1) * h.segment_size]
                nonce = _nonce(h.nonce_prefix, index, index == h.segment_count - 1)
                offset += _seal_into(self._key, nonce, self.header_bytes, chunk, view[offset:])
        del out[total:]  # shrinking a bytearray in place does not copy
        return out


class StreamOpener:
    """Opens a stream's segments, in order, and refuses to finish early."""

    def __init__(self, model_key: bytes, stream_id: bytes, header: bytes) -> None:
        self.header = StreamHeader.decode(header)
        key, prefix = stream_keys(model_key, stream_id)
        if prefix != self.header.nonce_prefix:
            raise IntegrityError(reason="stream header belongs to another stream")
        self._key = key
        self._header_bytes = header

    def open(self, index: int, sealed: bytes) -> bytes:
        """Plaintext of segment ``index``.

        Raises:
            IntegrityError: wrong index, length or tag (tampered, reordered, spliced, truncated).
        """
        h = self.header
        if not 0 <= index < h.segment_count or len(sealed) != h.ciphertext_len(index):
            raise IntegrityError(reason=f"segment {index} has the wrong position or length")
        last = index == h.segment_count - 1
        body, tag = memoryview(sealed)[:-TAG_LEN], bytes(sealed[-TAG_LEN:])
        nonce = _nonce(h.nonce_prefix, index, last)
        decryptor = Cipher(algorithms.AES(self._key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(self._header_bytes)
        plaintext = decryptor.update(body)
        try:
            decryptor.finalize()  # checks the tag; the plaintext is released only after this
        except InvalidTag as exc:
            raise IntegrityError(reason=f"segment {index} failed authentication") from exc
        return plaintext

    def open_all(self, body: bytes) -> bytes:
        """Open every segment of a complete stream body (segments concatenated, no header).

        Raises:
            IntegrityError: any segment fails, or the body is truncated or too long.
        """
        out, offset = bytearray(), 0
        for index in range(self.header.segment_count):
            length = self.header.ciphertext_len(index)
            out += self.open(index, body[offset : offset + length])
            offset += length
        if offset != len(body):
            raise IntegrityError(reason="stream body has trailing bytes")
        return bytes(out)
