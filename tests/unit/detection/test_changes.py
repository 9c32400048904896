"""restic's diff read into files added, removed and modified; moves, renames and deletes."""

from bdr.detection.changes import Changes, extension, moves, parse_diff

# `restic diff --json` of restic 0.14.0, recorded: a file edited, one renamed with an appended
# extension, one deleted, a new folder with a file.
RECORDED = """\
{"message_type":"change","path":"/src/a/f1.txt","modifier":"M"}
{"message_type":"change","path":"/src/a/f2.txt","modifier":"-"}
{"message_type":"change","path":"/src/a/f2.txt.locked","modifier":"+"}
{"message_type":"change","path":"/src/b/g.csv","modifier":"-"}
{"message_type":"change","path":"/src/c/","modifier":"+"}
{"message_type":"change","path":"/src/c/n.txt","modifier":"+"}
{"message_type":"change","path":"/src/d.txt","modifier":"U"}
{"message_type":"change","path":"/src/e.txt","modifier":"MU"}
{"message_type":"statistics","source_snapshot":"b066","target_snapshot":"51f9","changed_files":1,"added":{"files":2,"dirs":1,"others":0,"data_blobs":2,"tree_blobs":5,"bytes":2803},"removed":{"files":2,"dirs":0,"others":0,"data_blobs":2,"tree_blobs":4,"bytes":2441}}
"""


def test_the_recorded_diff_is_read_file_by_file():
    changes = parse_diff(RECORDED.splitlines())
    assert changes.added == ("/src/a/f2.txt.locked", "/src/c/n.txt")
    assert changes.removed == ("/src/a/f2.txt", "/src/b/g.csv")
    assert changes.modified == ("/src/a/f1.txt", "/src/e.txt")  # metadata alone is no change


def test_lines_that_are_not_changes_are_skipped():
    assert parse_diff(["", "not json", '{"change": 1', '{"message_type":"change"}']) == Changes(
        (), (), ()
    )


def test_a_rename_in_its_folder_a_move_and_a_delete_are_told_apart():
    paired = moves(parse_diff(RECORDED.splitlines()))
    assert paired.renames_by_folder == {"/src/a": 1}
    assert paired.renamed_to == ("/src/a/f2.txt.locked",)
    assert paired.deleted == ("/src/b/g.csv",)
    assert paired.moved == 0


def test_a_folder_renamed_is_moves_not_deletes():
    old = [f"/srv/Projects 2023/doc{n}.pdf" for n in range(150)]
    new = [f"/srv/Projects archive/doc{n}.pdf" for n in range(150)]
    paired = moves(Changes(tuple(new), tuple(old), ()))
    assert paired.moved == 150
    assert paired.deleted == () and paired.renamed == 0


def test_extensions():
    assert extension("/a/b.PDF") == "pdf"
    assert extension("/a/.bashrc") == ""
    assert extension("/a.d/noext") == ""
