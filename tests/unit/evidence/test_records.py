"""Canonical records, chain links and SSH signatures, as pure functions."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bdr.evidence import sshsig
from bdr.evidence.chain import line_hash
from bdr.evidence.records import encode
from bdr.evidence.verify import Verification, check_lines


def test_same_record_same_bytes_whatever_the_order():
    one = encode({"seq": 1, "kind": "drill", "reason": "café ok", "chain": "c"})
    two = encode({"chain": "c", "reason": "café ok", "kind": "drill", "seq": 1})
    assert one == two == '{"chain":"c","kind":"drill","reason":"café ok","seq":1}\n'.encode()


def chain_of(count: int) -> list[bytes]:
    lines = [encode({"seq": 1, "chain": "c", "run": 1})]
    for seq in range(2, count + 1):
        lines.append(encode({"seq": seq, "chain": "c", "prev": line_hash(lines[-1]), "run": seq}))
    return lines


def test_links_are_checked_line_by_line():
    result = Verification()
    assert len(check_lines(chain_of(3), result)) == 3 and result.ok
    broken = chain_of(3)
    broken[1] = broken[1].replace(b'"run":2', b'"run":7')
    result = Verification()
    check_lines(broken, result)
    assert result.problems == [
        "record 3: prev does not match record 2: the record before was changed, "
        "or this one does not follow it"
    ]


def test_signatures_round_trip_and_refuse_other_data_keys_and_namespaces():
    key = Ed25519PrivateKey.generate()
    armored = sshsig.sign(key, b"head\n", "bdr-evidence")
    assert armored.startswith("-----BEGIN SSH SIGNATURE-----\n")
    sshsig.verify(armored, b"head\n", "bdr-evidence", key.public_key())
    with pytest.raises(ValueError, match="does not match"):
        sshsig.verify(armored, b"other\n", "bdr-evidence", key.public_key())
    with pytest.raises(ValueError, match="another key"):
        sshsig.verify(armored, b"head\n", "bdr-evidence", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(ValueError, match="namespace"):
        sshsig.verify(armored, b"head\n", "file", key.public_key())
