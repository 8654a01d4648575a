"""The session kept under the platform's keystore where there is one (Android), else a 0600 file.

On Android the refresh token is sealed with an AES-256-GCM key that lives in the Android Keystore
(hardware-backed where the phone has it; the key never leaves it): the sealed bytes sit in the app's
private files directory, useless without the key. plyer's ``keystore`` is not used: on Android it is
plain SharedPreferences, i.e. the token in the clear in an XML file.

Desktops keep ``JsonTokenStore`` (a 0600 file in the app's user data directory). Neither is ever
Kivy's config or the app's settings.

The Android part needs pyjnius and the Android runtime: it is imported lazily, chosen only when
``kivy.utils.platform == "android"`` (``guide_app.app.token_store``), and has not been run here
(no device or emulator); ``SealedTokenStore`` itself is tested with a stand-in cipher.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Protocol

from .api.tokens import Tokens

KEY_ALIAS = "irs_guide_session"
SESSION_FILE = "session.json"
SEALED_SESSION_FILE = "session.sealed"


class Cipher(Protocol):
    def seal(self, plaintext: bytes) -> bytes: ...

    def open(self, sealed: bytes) -> bytes: ...


class SealedTokenStore:
    """Tokens sealed by ``cipher``, in a file only the app's user can read (0600)."""

    def __init__(self, path: Path, cipher: Cipher) -> None:
        self.path = Path(path)
        self.cipher = cipher

    def load(self) -> Tokens | None:
        try:
            sealed = base64.b64decode(self.path.read_bytes(), validate=True)
            return Tokens.from_json(json.loads(self.cipher.open(sealed).decode("utf-8")))
        except Exception:  # missing, corrupt, or the key is gone (app data cleared): sign in again
            return None

    def save(self, tokens: Tokens) -> None:
        sealed = base64.b64encode(self.cipher.seal(json.dumps(tokens.to_json()).encode("utf-8")))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(sealed)
        os.replace(partial, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def _java_bytes(values) -> bytes:
    """A Java byte[] as pyjnius hands it back (bytes, bytearray or signed ints) as Python bytes."""
    if isinstance(values, bytes | bytearray):
        return bytes(values)
    return bytes(value & 0xFF for value in values)


class AndroidKeystoreCipher:
    """AES-256-GCM with a key generated inside the Android Keystore (API 23+). Android only."""

    TAG_BITS = 128

    def __init__(self, alias: str = KEY_ALIAS) -> None:
        from jnius import autoclass  # only on the device (pyjnius comes with the kivy recipe)

        self._Cipher = autoclass("javax.crypto.Cipher")
        self._GCMParameterSpec = autoclass("javax.crypto.spec.GCMParameterSpec")
        key_store = autoclass("java.security.KeyStore").getInstance("AndroidKeyStore")
        key_store.load(None)
        if not key_store.containsAlias(alias):
            self._generate(autoclass, alias)
        self._key = key_store.getKey(alias, None)

    @staticmethod
    def _generate(autoclass, alias: str) -> None:
        properties = autoclass("android.security.keystore.KeyProperties")
        builder = autoclass("android.security.keystore.KeyGenParameterSpec$Builder")
        spec = (
            builder(alias, properties.PURPOSE_ENCRYPT | properties.PURPOSE_DECRYPT)
            .setBlockModes([properties.BLOCK_MODE_GCM])
            .setEncryptionPaddings([properties.ENCRYPTION_PADDING_NONE])
            .setKeySize(256)
            .build()
        )
        generator = autoclass("javax.crypto.KeyGenerator").getInstance(properties.KEY_ALGORITHM_AES, "AndroidKeyStore")
        generator.init(spec)
        generator.generateKey()

    def seal(self, plaintext: bytes) -> bytes:
        """The IV the keystore chose (12 bytes) followed by the ciphertext and its tag."""
        cipher = self._Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(self._Cipher.ENCRYPT_MODE, self._key)
        iv = _java_bytes(cipher.getIV())
        return bytes([len(iv)]) + iv + _java_bytes(cipher.doFinal(plaintext))

    def open(self, sealed: bytes) -> bytes:
        size = sealed[0]
        iv, body = sealed[1 : 1 + size], sealed[1 + size :]
        cipher = self._Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(self._Cipher.DECRYPT_MODE, self._key, self._GCMParameterSpec(self.TAG_BITS, iv))
        return _java_bytes(cipher.doFinal(body))
