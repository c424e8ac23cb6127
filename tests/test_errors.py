"""The error contract: the package's errors and OSError are one line and exit 2; anything else is a traceback."""
import inspect

import pytest

from attention_transport import errors
from attention_transport.cli import COMMANDS, main


def test_every_error_is_a_package_error_and_a_value_error():
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]
    assert len(classes) >= 10
    for cls in classes:
        assert issubclass(cls, errors.AttentionTransportError) and issubclass(cls, ValueError)
    assert issubclass(errors.BadType, TypeError) and issubclass(errors.FetchError, RuntimeError)
    assert set(errors.SKIPPABLE) == {errors.TooLong, errors.Unscorable}


@pytest.mark.parametrize("exc, code", [
    (errors.UnknownName("unknown thing 'x'; known things: a."), 2),
    (errors.DatasetError("d.jsonl:3: missing field(s) question"), 2),
    (FileNotFoundError("matrix file not found: m.npy"), 2),
    (PermissionError("permission denied: out"), 2),
])
def test_package_errors_and_os_errors_are_one_line(monkeypatch, capsys, exc, code):
    def boom(args, out):
        raise exc

    monkeypatch.setattr(COMMANDS["patterns"], "run", boom)
    assert main(["patterns"]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("attention-transport: error: ") and str(exc) in err


@pytest.mark.parametrize("exc", [KeyError("phi"), ValueError("an internal bug"), TypeError("bad call"),
                                 RuntimeError("internal"), ZeroDivisionError()])
def test_programming_errors_keep_their_traceback(monkeypatch, exc):
    def boom(args, out):
        raise exc

    monkeypatch.setattr(COMMANDS["patterns"], "run", boom)
    with pytest.raises(type(exc)):
        main(["patterns"])


def test_a_missing_optional_package_is_one_line(monkeypatch, capsys):
    def boom(args, out):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(COMMANDS["patterns"], "run", boom)
    assert main(["patterns"]) == 2
    assert "torch is not installed; the real-model harness needs the optional extra" in capsys.readouterr().err


def test_a_broken_import_of_the_package_is_a_traceback(monkeypatch):
    def boom(args, out):
        raise ImportError("cannot import name 'x'", name="attention_transport.harness.features")

    monkeypatch.setattr(COMMANDS["patterns"], "run", boom)
    with pytest.raises(ImportError):
        main(["patterns"])


def test_every_subcommand_is_a_registered_command():
    from attention_transport.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(sub.choices) == list(COMMANDS)
    for name, command in COMMANDS.items():
        assert command.name == name and command.help
