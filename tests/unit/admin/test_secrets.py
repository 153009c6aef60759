"""The secret box: Fernet keys from HOOKSTREAM_SECRET_KEY, newest first, rotated without losing a secret."""

from __future__ import annotations

import pytest

from admin.secrets import SecretBox, SecretKeyError, generate_key


def test_a_secret_comes_back_and_is_not_in_its_token() -> None:
    box = SecretBox(generate_key())
    token = box.encrypt("s3cr3t-value")
    assert "s3cr3t-value" not in token
    assert box.decrypt(token) == "s3cr3t-value"
    assert box.is_current(token)


def test_after_a_new_key_is_put_first_old_tokens_still_decrypt_and_rotate_to_the_new_key() -> None:
    old, new = generate_key(), generate_key()
    token = SecretBox(old).encrypt("s3cr3t-value")
    both = SecretBox(f"{new}, {old}")
    assert both.decrypt(token) == "s3cr3t-value"
    assert not both.is_current(token)
    rotated = both.rotate(token)
    assert both.is_current(rotated)
    # Once rotated, the old key can be dropped.
    assert SecretBox(new).decrypt(rotated) == "s3cr3t-value"
    with pytest.raises(SecretKeyError):
        SecretBox(new).decrypt(token)


def test_a_malformed_key_is_refused_by_position_without_quoting_it() -> None:
    with pytest.raises(SecretKeyError) as caught:
        SecretBox(f"{generate_key()},not-a-fernet-key")
    assert "key 2" in str(caught.value)
    assert "not-a-fernet-key" not in str(caught.value)


def test_without_a_key_nothing_is_encrypted() -> None:
    box = SecretBox(None)
    assert not box.configured
    with pytest.raises(SecretKeyError, match="HOOKSTREAM_SECRET_KEY is not set"):
        box.encrypt("x")


def test_a_token_from_a_foreign_key_is_refused_plainly() -> None:
    token = SecretBox(generate_key()).encrypt("x")
    with pytest.raises(SecretKeyError, match="no key"):
        SecretBox(generate_key()).decrypt(token)
