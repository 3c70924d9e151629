"""The test cluster's id must reach Kafka's storage tool as a value, never as an option."""

import base64

from tools.kafka.broker import new_cluster_id


def test_cluster_ids_never_start_with_a_dash_and_decode_to_sixteen_bytes():
    ids = [new_cluster_id() for _ in range(5000)]
    assert not [i for i in ids if i.startswith("-")]
    assert {len(base64.urlsafe_b64decode(i + "==")) for i in ids} == {16}
    assert len(set(ids)) == len(ids)
