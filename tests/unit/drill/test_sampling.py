from datetime import datetime

from bdr.drill.sampling import choose_sample, include_batches, sample_limit
from bdr.restic.messages import Node

CANARY = "/var/lib/bdr/canary/p/bdr-canary.txt"


def nodes() -> list[Node]:
    files = [Node(f"/srv/data/f{i:03d}.bin", "file", 1000 + i, datetime.min) for i in range(200)]
    files.append(Node("/srv/data/huge.iso", "file", 50_000, datetime.min))
    files.append(Node(CANARY, "file", 150, datetime.min))
    files.append(Node("/srv/data", "dir", 0, datetime.min))
    return files


def test_canary_then_largest_then_random_within_the_limit():
    sample = choose_sample(nodes(), "abc123", 60_000, canary_path=CANARY)
    assert sample[0].path == CANARY
    assert sample[1].path == "/srv/data/huge.iso"
    assert all(node.type == "file" for node in sample)
    assert sum(node.size for node in sample) <= 60_000
    assert len(sample) > 5


def test_same_snapshot_same_sample_other_snapshot_other_sample():
    first = choose_sample(nodes(), "abc123", 60_000, canary_path=CANARY)
    assert first == choose_sample(list(reversed(nodes())), "abc123", 60_000, canary_path=CANARY)
    other = choose_sample(nodes(), "def456", 60_000, canary_path=CANARY)
    assert [n.path for n in other[2:]] != [n.path for n in first[2:]]


def test_canary_and_largest_even_past_the_limit():
    sample = choose_sample(nodes(), "abc", 10, canary_path=CANARY)
    assert [n.path for n in sample] == [CANARY, "/srv/data/huge.iso"]


def test_a_client_file_named_like_the_canary_is_not_the_canary():
    planted = Node("/srv/data/canary/p/bdr-canary.txt", "file", 10, datetime.min)
    sample = choose_sample([*nodes(), planted], "abc", 10, canary_path=CANARY)
    assert [n.path for n in sample] == [CANARY, "/srv/data/huge.iso"]


def test_sample_limit_as_size_or_fraction():
    assert sample_limit("2GiB", 10) == 2 * 1024**3
    assert sample_limit("5%", 1_000_000) == 50_000


def test_include_batches_stay_within_the_budget():
    paths = [f"/srv/data/{'x' * 100}/{i}" for i in range(2000)]
    batches = include_batches(paths, max_bytes=10_000)
    assert [p for batch in batches for p in batch] == paths
    assert all(sum(len(p) + 11 for p in batch) <= 10_000 for batch in batches)
    assert len(batches) > 1
