from bdr.errors import ExitCode, worst


def test_worst_exit_code():
    assert worst([]) == ExitCode.OK
    assert worst([ExitCode.OK, ExitCode.PARTIAL]) == ExitCode.PARTIAL
    assert worst([ExitCode.PARTIAL, ExitCode.REPOSITORY, ExitCode.FAILED]) == ExitCode.FAILED
    assert worst([ExitCode.LOCKED, ExitCode.REPOSITORY]) == ExitCode.LOCKED
