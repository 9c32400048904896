"""restic's per-file messages read as a backup streams them, in bounded memory."""

import json

from bdr.detection.names import shipped
from bdr.detection.watch import BackupWatch

# `restic backup --json --verbose` of restic 0.14.0, recorded (the sizes shortened).
RECORDED = [
    '{"message_type":"verbose_status","action":"unchanged","item":"/src/a/f2.txt","duration":0,"data_size":0,"data_size_in_repo":0,"metadata_size":0,"metadata_size_in_repo":0,"total_files":0}',
    '{"message_type":"verbose_status","action":"new","item":"/src/a/n.txt","duration":0.0009,"data_size":4,"data_size_in_repo":86,"metadata_size":0,"metadata_size_in_repo":0,"total_files":0}',
    '{"message_type":"verbose_status","action":"modified","item":"/src/a/f1.txt","duration":0.0028,"data_size":6,"data_size_in_repo":88,"metadata_size":0,"metadata_size_in_repo":0,"total_files":0}',
    '{"message_type":"verbose_status","action":"modified","item":"/src/a/","duration":0.0044,"data_size":0,"data_size_in_repo":0,"metadata_size":1040,"metadata_size_in_repo":410,"total_files":0}',
    '{"message_type":"status","percent_done":1,"total_files":3,"files_done":3,"total_bytes":14,"bytes_done":14}',
    '{"message_type":"summary","files_new":1,"files_changed":1,"files_unmodified":1,"dirs_new":0,"dirs_changed":2,"dirs_unmodified":0,"data_blobs":2,"tree_blobs":3,"data_added":1752,"total_files_processed":3,"total_bytes_processed":14,"total_duration":0.21,"snapshot_id":"e4b29618"}',
]


def test_files_are_counted_and_sampled_and_other_messages_left_to_the_backup():
    watch = BackupWatch(shipped(), 10, seed="s")
    left = [line for line in RECORDED if not watch.feed(line)]
    assert left == RECORDED[4:], "status and summary are the backup's"
    assert (watch.added, watch.modified) == (1, 1)
    assert sorted(watch.sample) == [("/src/a/f1.txt", False), ("/src/a/n.txt", True)]


def verbose(action: str, item: str) -> str:
    return json.dumps({"message_type": "verbose_status", "action": action, "item": item})


def test_the_sample_stays_its_size_and_draws_from_the_whole_backup():
    watch = BackupWatch(shipped(), 50, seed="s")
    for n in range(10_000):
        watch.feed(verbose("modified", f"/srv/{n}.pdf"))
    assert len(watch.sample) == 50 and watch.modified == 10_000
    drawn = sorted(int(path[5:-4]) for path, _ in watch.sample)
    assert drawn[-1] > 5000, "late files are drawn as often as early ones"


def test_ransomwares_names_among_new_files_and_bdrs_own_files_left_out():
    watch = BackupWatch(shipped(), 5, seed="s", ignore="/var/lib/bdr/canary/office/")
    watch.feed(verbose("new", "/var/lib/bdr/canary/office/bdr-canary.txt"))
    for n in range(150):
        watch.feed(verbose("new", f"/srv/d{n}/HOW_TO_DECRYPT.txt"))
    watch.feed(verbose("modified", "/srv/old.docx.locked"))  # not new: a name it already had
    assert watch.name_hit_count == 150
    assert len(watch.name_hits) == 100  # examples are bounded
    assert watch.added == 150
