"""The canonical JSON that event hashes are made of is the same bytes whichever encoder writes it
(orjson for plain documents, ``json.dumps`` otherwise): a stored hash never depends on the path."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from domain.hashing import canonical_bytes

leaves = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text() | st.floats(
    allow_nan=False, allow_infinity=False)
documents = st.dictionaries(st.text(), st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(), inner, max_size=4), max_leaves=12), max_size=8)


def reference(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


@given(documents)
def test_canonical_bytes_equal_the_reference_encoding(document):
    try:
        expected = reference(document)
    except UnicodeEncodeError:
        return  # a lone surrogate cannot be hashed either way
    assert canonical_bytes(document) == expected


def test_every_control_character_is_escaped_as_the_reference_does():
    text = "".join(chr(code) for code in range(0x80)) + "\u2028\u2029é😀"
    assert canonical_bytes({"t": text, "n": [1, None, True]}) == reference({"t": text, "n": [1, None, True]})
