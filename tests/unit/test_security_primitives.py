"""Credential encryption and password hashing."""

from __future__ import annotations

import pytest

from app.crypto import CredentialCipher, CredentialError
from app.passwords import generate_password, hash_password, hash_token, verify_password


def test_credentials_round_trip_and_are_not_stored_in_clear() -> None:
    cipher = CredentialCipher("s" * 48)
    sealed = cipher.encrypt("ghp_supersecrettoken")
    assert b"supersecret" not in sealed
    assert cipher.decrypt(sealed) == "ghp_supersecrettoken"
    assert cipher.encrypt("same") != cipher.encrypt("same")  # random IV


def test_a_changed_secret_key_gives_a_clear_error() -> None:
    sealed = CredentialCipher("a" * 48).encrypt("token")
    with pytest.raises(CredentialError, match="SLUICE_SECRET_KEY changed"):
        CredentialCipher("b" * 48).decrypt(sealed)


def test_passwords_hash_with_argon2id_and_verify() -> None:
    hashed = hash_password("pa55word!")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "pa55word!")
    assert not verify_password(hashed, "wrong")
    assert not verify_password("not-a-hash", "pa55word!")


def test_generated_passwords_and_token_hashes() -> None:
    one, two = generate_password(), generate_password()
    assert one != two and len(one) >= 16
    assert hash_token("abc") == hash_token("abc") != hash_token("abd")
    assert len(hash_token("abc")) == 64
