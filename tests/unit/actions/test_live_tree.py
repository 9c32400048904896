"""The live tree a sample drill chooses its sample from: files only, as restic names them."""

import os

from bdr.actions.drill.live import walk


def test_the_walk_finds_regular_files_and_follows_no_link(tmp_path):
    (tmp_path / "docs" / "deep").mkdir(parents=True)
    (tmp_path / "docs" / "a.txt").write_bytes(b"12345")
    (tmp_path / "docs" / "deep" / "b.txt").write_bytes(b"1")
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_bytes(b"not in the source")
    (tmp_path / "docs" / "link").symlink_to(elsewhere, target_is_directory=True)
    (tmp_path / "docs" / "file-link").symlink_to(tmp_path / "docs" / "a.txt")
    os.mkfifo(tmp_path / "docs" / "pipe")
    tree = walk([str(tmp_path / "docs")], [])
    assert sorted((f.path, f.size) for f in tree.files) == [
        (str(tmp_path / "docs" / "a.txt"), 5),
        (str(tmp_path / "docs" / "deep" / "b.txt"), 1),
    ]


def test_excluded_directories_are_left_out(tmp_path):
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "a.txt").write_text("a")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "b.txt").write_text("b")
    tree = walk([str(tmp_path)], ["cache"])
    assert [f.path for f in tree.files] == [str(tmp_path / "keep" / "a.txt")]


def test_a_name_that_is_not_utf8_is_known_by_restic_spelling_and_its_own_bytes(tmp_path):
    folder = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.mkdir(folder)
    with open(os.path.join(folder, b"x.doc"), "wb") as handle:
        handle.write(b"latin-1")
    tree = walk([str(tmp_path)], [])
    (found,) = tree.files
    assert found.path == f"{tmp_path}/caf\ufffd/x.doc"
    assert os.fsencode(tree.on_disk(f"{tmp_path}/caf\ufffd")) == folder
    assert tree.on_disk(str(tmp_path)) == str(tmp_path)
