"""Model files under hostile conditions: permissions, symlinks, killed saves, crafted files,
and weight setters that must change nothing when they fail."""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from support import REPO

import scratchnn as snn
from scratchnn.atomic import TEMP_SUFFIX
from scratchnn.datasets.idx import read_idx, write_idx
from scratchnn.layers import Dense, Flatten, Input


def _model(dtype="float32") -> snn.Sequential:
    model = snn.Sequential([Input((2, 3)), Flatten(), Dense(4, activation="relu"),
                            Dense(3, activation="softmax")], dtype=dtype)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.random((12, 2, 3)), np.arange(12) % 3, epochs=1, verbose=0)
    return model


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


WRITERS = {
    "save": lambda path: _model().save(path),
    "save_weights": lambda path: _model().save_weights(path),
    "write_idx": lambda path: write_idx(path, np.arange(6, dtype=np.uint8)),
    "write_idx_gz": lambda path: write_idx(path.with_suffix(".gz"), np.arange(6, dtype=np.uint8)),
}


def _target(name: str, folder: Path) -> Path:
    return folder / ("f.gz" if name == "write_idx_gz" else "f.npz")


@pytest.fixture
def umask():
    """Set the process umask for one test; restored afterwards."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


# -- permissions ----------------------------------------------------------------------------
@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_new_file_mode_follows_umask_like_np_savez(tmp_path, umask, writer, mask):
    umask(mask)
    np.savez(tmp_path / "reference.npz", a=np.zeros(1))  # the independent reference
    WRITERS[writer](tmp_path / "f.npz")
    assert _mode(_target(writer, tmp_path)) == _mode(tmp_path / "reference.npz") == 0o666 & ~mask


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("old_mode", [0o640, 0o644, 0o600, 0o444])
def test_replacing_a_file_keeps_its_mode(tmp_path, umask, writer, old_mode):
    umask(0o077)  # a mode derived from the umask would be 0600
    target = _target(writer, tmp_path)
    target.write_bytes(b"old")
    os.chmod(target, old_mode)
    WRITERS[writer](tmp_path / "f.npz")
    assert _mode(target) == old_mode
    assert target.read_bytes() != b"old"


# -- symlinks, odd targets --------------------------------------------------------------------
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_saving_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path, writer):
    real = _target(writer, tmp_path / "real")
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = _target(writer, tmp_path)
    link.symlink_to(Path("real") / real.name)  # relative link
    WRITERS[writer](tmp_path / "f.npz")
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / real.name)
    assert real.read_bytes() != b"old"
    if writer.startswith("write_idx"):
        np.testing.assert_array_equal(read_idx(link), np.arange(6))
    assert sorted(p.name for p in real.parent.iterdir()) == [real.name]  # no temp left


def test_model_saved_through_symlink_loads_from_both_paths(tmp_path):
    model = _model()
    (tmp_path / "real.npz").write_bytes(b"")
    (tmp_path / "link.npz").symlink_to("real.npz")
    model.save(tmp_path / "link.npz")
    for name in ("link.npz", "real.npz"):
        for a, b in zip(snn.load_model(tmp_path / name).get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_dangling_symlink_creates_its_target(tmp_path):
    (tmp_path / "link.npz").symlink_to("new.npz")
    _model().save(tmp_path / "link.npz")
    assert (tmp_path / "link.npz").is_symlink() and (tmp_path / "new.npz").is_file()


def test_saving_onto_a_folder_or_a_symlink_loop_fails_cleanly(tmp_path):
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(IsADirectoryError, match="dir.npz.*is a folder"):
        _model().save(tmp_path / "dir.npz")
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match="symlink loop"):
        _model().save(tmp_path / "a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "dir.npz"]
    assert not any((tmp_path / "dir.npz").iterdir())


def test_save_rejects_a_filepath_that_is_not_a_path(tmp_path):
    with pytest.raises(TypeError, match="filepath must be a str or os.PathLike"):
        _model().save(3)
    with pytest.raises(TypeError, match="filepath must be a str or os.PathLike"):
        snn.load_model(None)


# -- a save killed with SIGKILL ---------------------------------------------------------------
_CHILD = """
import os, sys
import numpy as np
import scratchnn as snn
from scratchnn.layers import Dense, Input
real_fsync = os.fsync
def fsync_then_block(fd):  # the temp file is complete on disk: tell the parent, then wait
    real_fsync(fd)
    sys.stdout.write("written\\n")
    sys.stdout.flush()
    sys.stdin.read()  # blocks until the parent kills us
os.fsync = fsync_then_block
model = snn.Sequential([Input((3,)), Dense(2, kernel_initializer="ones")])
model.save(sys.argv[1])
"""


def _kill_mid_save(target: Path) -> int:
    """Run a save in a child process and SIGKILL it once its temp file is written; its pid."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(target)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert child.stdout.readline() == "written\n"
        temps = [p for p in target.parent.iterdir() if p.name.endswith(TEMP_SUFFIX)]
        assert len(temps) == 1
        assert re.fullmatch(rf"\.{re.escape(target.name)}\.{child.pid}\.[0-9a-f]{{8}}"
                            rf"{re.escape(TEMP_SUFFIX)}", temps[0].name)
        assert temps[0].stat().st_size > 0
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    return child.pid


def test_sigkill_during_save_keeps_the_old_file_and_the_next_save_removes_the_temp(tmp_path):
    target = tmp_path / "m.npz"
    model = _model()
    model.save(target)
    before = target.read_bytes()
    dead_pid = _kill_mid_save(target)
    assert target.read_bytes() == before  # the old file is untouched
    stale = [p for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)]
    assert len(stale) == 1 and f".{dead_pid}." in stale[0].name
    # temp files of a live process and of another target are left alone
    live = tmp_path / f".m.npz.{os.getppid()}.00000000{TEMP_SUFFIX}"
    other = tmp_path / f".other.npz.{dead_pid}.00000000{TEMP_SUFFIX}"
    live.write_bytes(b"x")
    other.write_bytes(b"x")
    model.save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.npz", live.name, other.name])
    for a, b in zip(snn.load_model(target).get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_sigkill_during_first_save_leaves_no_target(tmp_path):
    target = tmp_path / "m.npz"
    _kill_mid_save(target)
    assert not target.exists()
    write_idx(tmp_path / "m.npz", np.arange(3, dtype=np.uint8))  # write_idx cleans up too
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


# -- crafted and damaged files ----------------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(description, arrays) of a valid compiled, trained model file."""
    path = tmp_path_factory.mktemp("saved") / "good.npz"
    _model().save(path)
    with np.load(path, allow_pickle=False) as data:
        description = json.loads(str(data["__scratchnn__"]))
        arrays = {k: data[k] for k in data.files if k != "__scratchnn__"}
    return description, arrays


def _write(path: Path, description, arrays: dict) -> Path:
    np.savez(path, __scratchnn__=np.array(json.dumps(description)), **arrays)
    return path


def _set(path):
    """A mutation of the description setting ``path`` (a list of keys) to a value."""
    def mutate(value):
        def apply(description):
            node = description
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
            return description
        return apply
    return mutate


def _drop(*path):
    def apply(description):
        node = description
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        return description
    return apply


DENSE = ["model", "layers", 1, "config"]
DESCRIPTION_CASES = {
    "a list": (lambda d: [d], "no \"format\""),
    "a string": (lambda d: "model", "no \"format\""),
    "compile without loss": (_drop("compile", "loss"), r"compile is missing key\(s\) \['loss'\]"),
    "string version": (_set(["version"])("1"), "version must be a positive integer, got '1'"),
    "float version": (_set(["version"])(1.5), "version must be a positive integer"),
    "newer version": (_set(["version"])(99), "newer scratchnn"),
    "metadata list": (_set(["metadata"])([1, 2]), "metadata must be an object, got list"),
    "metadata string": (_set(["metadata"])("x"), "metadata must be an object, got str"),
    "model a list": (_set(["model"])([]), "model must be an object, got list"),
    "no layers": (_set(["model", "layers"])([]), "model.layers must be a non-empty list"),
    "layer not a dict": (_set(["model", "layers", 0])(3), r"model.layers\[0\] must be an object"),
    "unknown layer": (_set(["model", "layers", 0, "class_name"])("Conv2D"),
                      r"model.layers\[0\].class_name is unknown: 'Conv2D'"),
    "input layer": (_set(["model", "layers", 0, "class_name"])("InputLayer"), "is unknown"),
    "units 1e9": (_set(DENSE + ["units"])(10**9), "needs 10,000,000,003 float32 weights"),
    "units 4e6": (_set(DENSE + ["units"])(4_000_000), "needs 40,000,003 float32 weights"),
    "units 0": (_set(DENSE + ["units"])(0), "units must be a positive integer, got 0"),
    "units -3": (_set(DENSE + ["units"])(-3), "units must be a positive integer, got -3"),
    "units float": (_set(DENSE + ["units"])(4.0), "units must be a positive integer, got 4.0"),
    "units bool": (_set(DENSE + ["units"])(True), "units must be a positive integer, got True"),
    "units string": (_set(DENSE + ["units"])("4"), "units must be a positive integer, got '4'"),
    "units off by one": (_set(DENSE + ["units"])(5), r"'weight/0' has shape \(6, 4\), expected "
                                                     r"\(6, 5\)"),
    "unknown activation": (_set(DENSE + ["activation"])("prelu"), "activation is unknown: 'prelu'"),
    "activation number": (_set(DENSE + ["activation"])(1), "activation must be a string"),
    "use_bias string": (_set(DENSE + ["use_bias"])("no"), "use_bias must be true or false"),
    "unknown key": (_set(DENSE + ["filters"])(3), r"unknown key\(s\) \['filters'\]"),
    "layer name number": (_set(DENSE + ["name"])(7), "name must be a string"),
    "unknown initializer": (_set(DENSE + ["kernel_initializer"])({"name": "orthogonal"}),
                            "kernel_initializer.name is unknown: 'orthogonal'"),
    "initializer seed string": (
        _set(DENSE + ["kernel_initializer"])({"name": "he_normal", "config": {"seed": "x"}}),
        "seed must be a non-negative integer or null"),
    "initializer negative stddev": (
        _set(DENSE + ["kernel_initializer"])({"name": "random_normal",
                                              "config": {"stddev": -1.0}}),
        "stddev must be >= 0"),
    "input shape negative": (_set(["model", "input_shape"])([2, -3]),
                             "input_shape must hold positive integers"),
    "input shape wrong": (_set(["model", "input_shape"])([7]), "weights do not match"),
    "input shape string": (_set(["model", "input_shape"])("2,3"),
                           "input_shape must be a list of 1 to 32 positive integers"),
    "dense on 2-D input": (_drop("model", "layers", 0), "Dense needs 1-D input"),
    "model dtype float16": (_set(["model", "dtype"])("float16"), "model.dtype is unknown"),
    "model dtype mismatch": (_set(["model", "dtype"])("float64"),
                             "has dtype float32, but the file's dtype is float64"),
    "unknown optimizer": (_set(["compile", "optimizer", "name"])("lion"),
                          "compile.optimizer.name is unknown: 'lion'"),
    "optimizer lr string": (_set(["compile", "optimizer", "config", "learning_rate"])("0.1"),
                            "learning_rate must be a finite number"),
    "optimizer negative lr": (_set(["compile", "optimizer", "config", "learning_rate"])(-1),
                              "learning_rate must be a finite number >= 0"),
    "optimizer unknown key": (_set(["compile", "optimizer", "config", "rho"])(0.9),
                              r"unknown key\(s\) \['rho'\]"),
    "unknown loss": (_set(["compile", "loss", "name"])("hinge"), "compile.loss.name is unknown"),
    "loss config list": (_set(["compile", "loss", "config"])([]), "must be an object"),
    "unknown metric": (_set(["compile", "metrics"])(["auc"]), "unknown metric 'auc'"),
    "metrics string": (_set(["compile", "metrics"])("accuracy"), "must be a list of names"),
    "optimizer state without compile": (_drop("compile"), "unexpected"),
    "weights kind": (_set(["kind"])("weights"), "holds only weights"),
    "unknown kind": (_set(["kind"])("layer"), "kind must be"),
}


@pytest.mark.parametrize("case", sorted(DESCRIPTION_CASES))
def test_crafted_description_gives_model_file_error_naming_the_problem(tmp_path, saved, case):
    mutate, message = DESCRIPTION_CASES[case]
    description, arrays = saved
    path = _write(tmp_path / "bad.npz", mutate(copy.deepcopy(description)), arrays)
    tracemalloc.start()
    try:
        with pytest.raises(snn.ModelFileError, match=message) as info:
            snn.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(path) in str(info.value)
    assert peak < 2 * 2**20  # nothing the size of the described model was allocated


def _replace(key, make):
    def apply(arrays):
        arrays[key] = make(arrays[key]) if key in arrays else make(None)
        return arrays
    return apply


def _remove(key):
    def apply(arrays):
        del arrays[key]
        return arrays
    return apply


ARRAY_CASES = {
    "complex weight": (_replace("weight/0", lambda w: w.astype(np.complex64)),
                       "'weight/0' has dtype complex64; expected real floats"),
    "object weight": (_replace("weight/0", lambda w: w.astype(object)),
                      "'weight/0' has dtype object"),
    "int weight": (_replace("weight/1", lambda w: w.astype(np.int32)),
                   "'weight/1' has dtype int32; expected real floats"),
    "string weight": (_replace("weight/1", lambda w: w.astype(str)), "has dtype <U"),
    "structured weight": (_replace("weight/1", lambda w: np.zeros(4, "f4,f4")),
                          "structured arrays are not allowed"),
    "float64 weight": (_replace("weight/2", lambda w: w.astype(np.float64)),
                       "has dtype float64, but the file's dtype is float32"),
    "float16 weight": (_replace("weight/2", lambda w: w.astype(np.float16)),
                       "has dtype float16, but the file's dtype is float32"),
    "transposed weight": (_replace("weight/0", lambda w: w.T.copy()),
                          r"weights do not match the architecture: entry 'weight/0' has shape "
                          r"\(4, 6\), expected \(6, 4\)"),
    "missing weight": (_remove("weight/3"), r"missing \['weight/3'\]"),
    "extra weight": (_replace("weight/4", lambda _: np.zeros(3, np.float32)),
                     r"unexpected \['weight/4'\]"),
    "unknown entry": (_replace("bias", lambda _: np.zeros(3, np.float32)),
                      "unexpected entry 'bias.npy'"),
    "partial optimizer state": (_remove("optimizer/0/v"),
                                r"optimizer state is invalid: .* without \['optimizer/0/v'\]"),
    "negative iterations": (_replace("optimizer/iterations", lambda _: np.array(-1)),
                            "iterations = -1 < 0"),
    "float iterations": (_replace("optimizer/iterations", lambda _: np.array(1.5)),
                         "'optimizer/iterations' has dtype float64; expected an integer"),
    "slot wrong shape": (_replace("optimizer/0/m", lambda m: m[:-1]),
                         r"'optimizer/0/m' has shape \(42,\), expected \(43,\)"),
    "description a number": (_replace("__scratchnn__", lambda _: np.array(3.0)),
                             "description entry must be a JSON string"),
}


@pytest.mark.parametrize("case", sorted(ARRAY_CASES))
def test_crafted_arrays_give_model_file_error_naming_the_problem(tmp_path, saved, case):
    mutate, message = ARRAY_CASES[case]
    description, arrays = saved
    arrays = mutate(dict(arrays))
    path = tmp_path / "bad.npz"
    if "__scratchnn__" in arrays:
        np.savez(path, **arrays)
    else:
        _write(path, description, arrays)
    with pytest.raises(snn.ModelFileError, match=message):
        snn.load_model(path)


def _npy_header(descr: str, shape: tuple) -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


@pytest.mark.parametrize("entry, descr, shape, message", [
    ("__scratchnn__.npy", "<U100000000", (), "is truncated or padded"),
    ("__scratchnn__.npy", "<U10", (), "is truncated or padded"),
    ("weight/0.npy", "<f4", (6, 4000000), "is truncated or padded"),
    ("weight/0.npy", "<f4", (10**12,), "is truncated or padded"),
])
def test_headers_are_checked_before_any_data_is_read(tmp_path, saved, entry, descr, shape,
                                                     message):
    """A header announcing gigabytes in a tiny file fails without allocating them."""
    good = _write(tmp_path / "good.npz", *saved)
    path = tmp_path / "bad.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = _npy_header(descr, shape) if info.filename == entry else src.read(info)
            dst.writestr(info, data)
    tracemalloc.start()
    try:
        with pytest.raises(snn.ModelFileError, match=f"'{entry[:-4]}' {message}"):
            snn.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20


def test_description_larger_than_the_limit_is_rejected_from_its_header(tmp_path, saved):
    description, arrays = saved
    path = tmp_path / "big.npz"
    np.savez(path, __scratchnn__=np.array(" " * (4 * 2**20 + 1)), **arrays)
    with pytest.raises(snn.ModelFileError, match="description entry must be a JSON string of "
                                                 "at most 4194304 characters"):
        snn.load_model(path)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_duplicate_and_encrypted_entries_are_rejected(tmp_path, saved):
    path = _write(tmp_path / "dup.npz", *saved)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("weight/0.npy", b"")
    with pytest.raises(snn.ModelFileError, match="'weight/0.npy' appears twice"):
        snn.load_model(path)
    data = bytearray(_write(tmp_path / "enc.npz", *saved).read_bytes())
    data[6] |= 1  # general-purpose flags of the first local header ...
    data[data.find(b"PK\x01\x02") + 8] |= 1  # ... and of its directory record: "encrypted"
    (tmp_path / "enc.npz").write_bytes(bytes(data))
    with pytest.raises(snn.ModelFileError, match="is encrypted"):
        snn.load_model(tmp_path / "enc.npz")


def test_weights_file_loads_only_through_load_weights(tmp_path):
    model = _model()
    model.save_weights(tmp_path / "w.npz")
    with pytest.raises(snn.ModelFileError, match="holds only weights"):
        snn.load_model(tmp_path / "w.npz")


def test_model_file_error_is_exported_and_a_value_error():
    assert snn.ModelFileError is snn.saving.ModelFileError
    assert issubclass(snn.ModelFileError, ValueError)
    assert "ModelFileError" in snn.__all__


def test_load_model_compile_argument_is_validated(tmp_path):
    _model().save(tmp_path / "m.npz")
    with pytest.raises(TypeError, match="compile must be True or False"):
        snn.load_model(tmp_path / "m.npz", compile="no")


# -- metadata is checked before anything is written ---------------------------------------------
@pytest.mark.parametrize("metadata, error, message", [
    ({"mean": np.float32(0.5)}, ValueError, "metadata must be JSON-serializable"),
    ({(1, 2): "tuple key"}, ValueError, "metadata must be JSON-serializable"),
    ([1, 2], TypeError, "metadata must be a dict, got list"),
])
def test_unsaveable_metadata_fails_before_writing(tmp_path, metadata, error, message):
    model = _model()
    model.metadata = metadata
    with pytest.raises(error, match=message):
        model.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


# -- set_weights / load_weights: all or nothing -------------------------------------------------
def _bits(model) -> list[bytes]:
    return [w.tobytes() for w in model.get_weights()]


@pytest.mark.parametrize("bad, error, message", [
    (lambda ws: ws[:-1] + [np.zeros(7)], ValueError, r"weight 3 has shape \(7,\)"),
    (lambda ws: ws[:-1], ValueError, "set_weights got 3 arrays, the model has 4"),
    (lambda ws: ws + [ws[-1]], ValueError, "set_weights got 5 arrays, the model has 4"),
    (lambda ws: ws[:-1] + [ws[-1].astype(np.complex128)], TypeError,
     r"weights\[3\] must be real numbers, got dtype complex128"),
    (lambda ws: ws[:-1] + [ws[-1].astype(object)], TypeError, r"weights\[3\] must be real"),
    (lambda ws: ws[:-1] + [ws[-1].astype(str)], TypeError, r"weights\[3\] must be real"),
    (lambda ws: ws[:-1] + [[[1, 2], [3]]], TypeError, r"weights\[3\] could not be converted"),
    (lambda ws: ws[0], ValueError, "set_weights got 6 arrays"),
    (lambda ws: None, TypeError, "expects a list of arrays"),
    (lambda ws: "kernel", TypeError, "expects a list of arrays"),
])
def test_failed_set_weights_changes_nothing(bad, error, message):
    model = _model()
    before = _bits(model)
    new = [w + 1 for w in model.get_weights()]
    with pytest.raises(error, match=message):
        model.set_weights(bad(new))
    assert _bits(model) == before


def test_set_weights_accepts_nan_ints_and_bools_like_keras():
    model = _model()
    ws = model.get_weights()
    ws[0] = np.full(ws[0].shape, np.nan)
    ws[1] = np.arange(4)  # int64 -> float32
    ws[3] = np.array([True, False, True])
    model.set_weights(ws)
    got = model.get_weights()
    assert np.isnan(got[0]).all() and got[0].dtype == np.float32
    np.testing.assert_array_equal(got[1], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(got[3], [1.0, 0.0, 1.0])


def _weights_file(tmp_path: Path, arrays: dict, dtype="float32") -> Path:
    description = {"format": "scratchnn-model", "version": 1, "kind": "weights", "dtype": dtype}
    return _write(tmp_path / "w.npz", description, arrays)


@pytest.mark.parametrize("mutate, message", [
    (lambda a: a.update({"weight/3": np.zeros(7, np.float32)}),
     r"weights do not match the model: entry 'weight/3' has shape \(7,\), expected \(3,\)"),
    (lambda a: a.pop("weight/3"), r"missing \['weight/3'\]"),
    (lambda a: a.update({"weight/4": np.zeros(3, np.float32)}), r"unexpected \['weight/4'\]"),
    (lambda a: a.update({"weight/3": a["weight/3"].astype(np.complex64)}),
     "'weight/3' has dtype complex64"),
    (lambda a: a.update({"weight/3": a["weight/3"].astype(np.float64)}),
     "has dtype float64, but the file's dtype is float32"),
])
def test_failed_load_weights_changes_nothing(tmp_path, mutate, message):
    source, target = _model(), _model()
    arrays = {f"weight/{i}": w + 1 for i, w in enumerate(source.get_weights())}
    mutate(arrays)
    path = _weights_file(tmp_path, arrays)
    before = _bits(target)
    with pytest.raises(snn.ModelFileError, match=message):
        target.load_weights(path)
    assert _bits(target) == before


def test_load_weights_casts_between_float_dtypes_like_keras(tmp_path):
    source = _model("float64")
    source.save_weights(tmp_path / "w64.npz")
    target = _model("float32")
    target.load_weights(tmp_path / "w64.npz")
    for a, b in zip(target.get_weights(), source.get_weights()):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b.astype(np.float32))
    source.save(tmp_path / "m64.npz")  # a full model file works too; its optimizer is ignored
    target.load_weights(tmp_path / "m64.npz")
    np.testing.assert_array_equal(target.get_weights()[0], source.get_weights()[0]
                                  .astype(np.float32))


def test_loading_draws_no_random_numbers_and_keeps_initializer_settings(tmp_path):
    init = snn.initializers.RandomUniform(-0.3, 0.2, seed=4)
    model = snn.Sequential([Input((3,)), Dense(2, kernel_initializer=init)])
    model.save(tmp_path / "m.npz")
    snn.utils.set_random_seed(7)
    expected = snn.seeding.global_rng().random(3)
    snn.utils.set_random_seed(7)
    loaded = snn.load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(snn.seeding.global_rng().random(3), expected)
    assert loaded.get_config() == model.get_config()
    assert loaded.layers[0].kernel_initializer.get_config() == {"minval": -0.3, "maxval": 0.2,
                                                               "seed": 4}
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


@pytest.mark.parametrize("config, message", [
    ({"minval": 1.0, "maxval": 0.0}, "has minval > maxval"),
    ({"minval": -1e308, "maxval": 1e308}, "maxval - minval must be finite"),
])
def test_initializer_ranges_that_cannot_draw_are_rejected(tmp_path, saved, config, message):
    description, arrays = saved
    description = copy.deepcopy(description)
    description["model"]["layers"][1]["config"]["kernel_initializer"] = {
        "name": "random_uniform", "config": config}
    with pytest.raises(snn.ModelFileError, match=message):
        snn.load_model(_write(tmp_path / "bad.npz", description, arrays))


def test_save_into_a_folder_that_cannot_be_listed_still_works(tmp_path, monkeypatch):
    def no_listing(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "scandir", no_listing)
    model = _model()
    model.save(tmp_path / "m.npz")
    monkeypatch.undo()
    np.testing.assert_array_equal(snn.load_model(tmp_path / "m.npz").get_weights()[0],
                                  model.get_weights()[0])
