"""Sample drills: a few patterns that restore about the configured share of files and bytes."""

import random
from datetime import datetime

import pytest

from bdr.drill.sampling import choose_clusters, include_batches, sample_share
from bdr.restic.messages import Node
from bdr.restic.patterns import matches, selector

CANARY = "/var/lib/bdr/canary/p/bdr-canary.txt"


def node(path: str, size: int) -> Node:
    return Node(path, "file", size, datetime.min)


def small_files_tree(count: int = 100_000) -> list[Node]:
    """A file share of small files: 500 folders of 200 files, 1-2 KB each."""
    rng = random.Random(1)
    files = [
        node(f"/srv/share/dept{d // 50:02d}/folder{d:03d}/doc-{i:04d}.txt", rng.randint(1000, 2000))
        for d in range(count // 200)
        for i in range(200)
    ]
    return [*files, node(CANARY, 150)]


def mixed_tree() -> list[Node]:
    """10,000 small files and four 100 MB images: most of the bytes are in four files."""
    rng = random.Random(2)
    files = [
        node(f"/srv/share/docs/d{d:02d}/f{i:03d}.txt", rng.randint(1000, 20_000))
        for d in range(50)
        for i in range(200)
    ]
    files += [node(f"/srv/share/images/disk{i}.img", 100 << 20) for i in range(4)]
    return [*files, node(CANARY, 150)]


def restored_by(patterns, files):
    """What restic's include of `patterns` restores: a match of a file or a parent of it."""
    return {f.path for f in files if any(matches(p, f.path) for p in patterns)}


@pytest.mark.parametrize("share", [0.01, 0.05, 0.10])
def test_a_small_files_sample_holds_its_share_of_files_and_bytes_in_few_patterns(share):
    files = small_files_tree()
    sample = choose_clusters(files, "4f2a9c", share, canary_path=CANARY)
    data = [f for f in sample.files if f.path != CANARY]
    everything = [f for f in files if f.path != CANARY]
    file_share = len(data) / len(everything)
    byte_share = sum(f.size for f in data) / sum(f.size for f in everything)
    assert share * 0.8 <= file_share <= share * 1.2
    assert share * 0.8 <= byte_share <= share * 1.2
    assert len(sample.patterns) <= 60  # restic matches each against every node: keep it few
    assert sample.patterns[0] == CANARY


def test_the_patterns_restore_exactly_the_sample():
    files = small_files_tree(4_000)
    sample = choose_clusters(files, "4f2a9c", 0.05, canary_path=CANARY)
    assert restored_by(sample.patterns, files) == {f.path for f in sample.files}


def test_a_mixed_tree_sample_holds_small_files_too():
    files = mixed_tree()
    sample = choose_clusters(files, "77aa01", 0.10, canary_path=CANARY)
    small = [f for f in sample.files if f.path.startswith("/srv/share/docs/")]
    assert 0.08 * 10_000 <= len(small) <= 0.12 * 10_000  # not just one image and the canary
    assert restored_by(sample.patterns, files) == {f.path for f in sample.files}


def test_large_files_are_taken_with_the_chance_that_keeps_the_share():
    """A 5% sample of four 100 MB files cannot hold 5% of their bytes: one file, one time in
    five, so that over many snapshots the share of bytes is right."""
    files = mixed_tree()
    taken = 0
    for seed in range(200):
        sample = choose_clusters(files, f"{seed:08x}", 0.05, canary_path=CANARY)
        taken += sum(1 for f in sample.files if f.path.startswith("/srv/share/images/"))
    assert 0.12 <= taken / 200 <= 0.30  # 0.2 expected


def test_same_snapshot_same_sample_other_snapshot_other_sample():
    files = small_files_tree(20_000)
    first = choose_clusters(files, "abc123", 0.05, canary_path=CANARY)
    assert first == choose_clusters(list(reversed(files)), "abc123", 0.05, canary_path=CANARY)
    assert first != choose_clusters(files, "def456", 0.05, canary_path=CANARY)


def test_names_that_look_like_patterns_are_escaped():
    files = [
        node("/srv/x/weird[1].txt", 10),
        node("/srv/x/weird1.txt", 10),
        node("/srv/x/star*.txt", 10),
        node("/srv/x/starry.txt", 10),
        node("/srv/y/a.txt", 10),
        node(CANARY, 150),
    ]
    for seed in range(30):
        sample = choose_clusters(files, f"s{seed}", 0.5, canary_path=CANARY)
        assert restored_by(sample.patterns, files) == {f.path for f in sample.files}


def test_a_client_file_named_like_the_canary_is_not_the_canary():
    planted = node("/srv/data/bdr-canary.txt", 10)
    sample = choose_clusters([planted, node(CANARY, 150)], "abc", 0.01, canary_path=CANARY)
    assert sample.patterns[0] == CANARY


def test_sample_share_as_fraction_or_size():
    assert sample_share("5%", 1_000_000) == 0.05
    assert sample_share("250KB", 1_000_000) == 0.25
    assert sample_share("2GiB", 1_000) == 1.0


def test_include_batches_stay_within_the_budget():
    paths = [f"/srv/data/{'x' * 100}-{i}" for i in range(1000)]
    batches = include_batches(paths, max_bytes=10_000)
    assert [p for batch in batches for p in batch] == paths
    assert all(sum(len(p) + 11 for p in batch) <= 10_000 for batch in batches)


def random_tree(rng: random.Random, count: int) -> list[Node]:
    names = ["a", "b[1]", "b1", "c*", "d-e", "x\ufffdy", "]", "back\\slash"]
    files = []
    for index in range(count):
        parts = [rng.choice(names) + str(rng.randint(0, 2)) for _ in range(rng.randint(1, 4))]
        files.append(node("/srv/" + "/".join(parts) + f"/f{index}", rng.randint(0, 1 << 20)))
    return files


def test_the_roots_hold_whatever_the_patterns_select_in_a_changed_tree():
    """A sample chosen from the live tree is restored from the snapshot, which may hold files
    the live tree no longer has: listing the sample's roots must name all that the patterns
    restore, or a drill would find restored files it did not expect."""
    rng = random.Random(11)
    for trial in range(150):
        snapshot = random_tree(rng, rng.randint(1, 200))
        live = [f for f in snapshot if rng.random() > 0.2] + random_tree(rng, rng.randint(0, 20))
        if not live:
            continue
        sample = choose_clusters(live, f"{trial}", rng.choice([0.05, 0.3, 1.0]), canary_path=CANARY)
        assert list(sample.roots) == sorted(sample.roots)
        assert not any(
            inner != outer and inner.startswith(outer.rstrip("/") + "/")
            for inner in sample.roots
            for outer in sample.roots
        ), "only the outermost roots are listed"
        selected = selector(sample.patterns)
        restored = [f.path for f in snapshot if selected(f.path)]
        assert all(
            any(path == root or path.startswith(root.rstrip("/") + "/") for root in sample.roots)
            for path in restored
        ), trial
        assert {f.path for f in live if selected(f.path)} == {f.path for f in sample.files}
