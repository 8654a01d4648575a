"""The session kept on the device: a 0600 file on desktops, sealed by the platform keystore on Android.

The Android Keystore cipher itself needs a device (pyjnius, the Android runtime) and is not run here;
the sealed store around it is, with a stand-in cipher.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from guide_app.api.tokens import JsonTokenStore, Tokens
from guide_app.keystore import SealedTokenStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def some_tokens() -> Tokens:
    return Tokens.from_session(
        {
            "accessToken": "eyJaccess",
            "accessTokenExpiresAt": "2026-12-04T10:15:00Z",
            "refreshToken": "refresh-secret-Q3b1xYz",
            "refreshTokenExpiresAt": "2027-01-03T10:00:00Z",
            "viewer": {"username": "sh.guide"},
        }
    )


def test_the_session_file_is_the_users_only_whatever_the_umask(tmp_path):
    before = os.umask(0)
    try:
        store = JsonTokenStore(tmp_path / "guide" / "session.json")
        store.save(some_tokens())
    finally:
        os.umask(before)
    assert mode(store.path) == 0o600 and store.load() == some_tokens()
    store.clear()
    assert not store.path.exists() and store.load() is None


class XorCipher:
    """Stands in for the Android Keystore's AES-GCM (which needs a device): reversible, and not the clear text."""

    def seal(self, plaintext: bytes) -> bytes:
        return bytes(b ^ 0x5A for b in plaintext)

    def open(self, sealed: bytes) -> bytes:
        return self.seal(sealed)


def test_a_sealed_session_keeps_no_token_in_the_clear(tmp_path):
    store = SealedTokenStore(tmp_path / "session.sealed", XorCipher())
    store.save(some_tokens())
    assert mode(store.path) == 0o600
    assert b"refresh-secret" not in store.path.read_bytes() and store.load() == some_tokens()
    store.path.write_bytes(b"not what was sealed")
    assert store.load() is None  # a corrupt file or a lost key: she signs in again
    store.clear()
    assert store.load() is None
