"""Argon2 password hashing, run off the event loop (it is CPU-bound by design)."""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128

_hasher = PasswordHasher()
# Argon2 takes ~50 ms of CPU and 64 MiB: bound how many run at once, so a burst of
# sign-ins queues instead of exhausting threads and memory.
MAX_CONCURRENT_HASHES = 4
_slots: asyncio.Semaphore | None = None


def _hash_slots() -> asyncio.Semaphore:
    global _slots
    if _slots is None:
        _slots = asyncio.Semaphore(MAX_CONCURRENT_HASHES)
    return _slots


async def hash_password(password: str) -> str:
    async with _hash_slots():
        return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    async with _hash_slots():
        return await asyncio.to_thread(verify)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def decoy_hash() -> str:
    """Verified against when the username is unknown, so timing reveals nothing."""
    return _hasher.hash("decoy password that matches nothing")
