"""Encryption of integration credentials at rest, keyed by the process secret key."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class CredentialError(Exception):
    """Stored credentials cannot be decrypted with this secret key."""


class CredentialCipher:
    """Encrypts and decrypts integration tokens (Fernet: AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, secret_key: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"sluice-credentials", info=b"fernet-v1"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, plaintext: str) -> bytes:
        """Ciphertext for storing in `integrations.credentials`."""
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        """The plaintext credential; only call this right before using it."""
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode()
        except InvalidToken:
            raise CredentialError(
                "stored credentials cannot be decrypted: SLUICE_SECRET_KEY changed since they "
                "were saved; enter the integration's token again"
            ) from None
