"""mnist_loader: finds MNIST, verifies it, reads both formats, refuses damage and code."""
import gzip
import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

import mnist_loader
from helpers import REPO

SHARED = REPO.parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (SHARED / "t10k-images-idx3-ubyte.gz").is_file(),
                                 reason=f"the MNIST test set is not in {SHARED}")
T10K = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture
def only(monkeypatch, tmp_path):
    """Make the loader look in one folder only (returned, empty)."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    monkeypatch.setenv("MNIST_DIR", str(folder))
    return folder


def loader_cli(*args, env_dir=None):
    env = {"PATH": "/usr/bin:/bin"}
    if env_dir:
        env["MNIST_DIR"] = str(env_dir)
    return subprocess.run([sys.executable, "-m", "mnist_loader", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


@needs_mnist
def test_the_course_subset_is_8000_and_2000_columns():
    X_train, y_train, X_test, y_test = mnist_loader.load_course_subset()
    assert X_train.shape == (784, 8000) and X_test.shape == (784, 2000)
    assert y_train.shape == (8000,) and y_test.shape == (2000,)
    assert X_train.dtype == np.float64 and 0.0 <= X_train.min() and X_train.max() == 1.0
    assert set(np.unique(y_train)) == set(range(10))
    pixels = mnist_loader.load_course_subset(as_bytes=True)[0]
    assert pixels.dtype == np.uint8 and np.array_equal(pixels / 255.0, X_train)


@needs_mnist
def test_nielsen_pairs_have_his_shapes():
    training, test = mnist_loader.load_subset_wrapper()
    x, y = training[0]
    assert x.shape == (784, 1) and y.shape == (10, 1) and y.sum() == 1.0
    assert len(training) == 8000 and len(test) == 2000 and isinstance(test[0][1], int)


@needs_mnist
def test_info_command_checks_the_files():
    result = loader_cli("info")
    assert result.returncode == 0, result.stderr
    assert "MD5 ok" in result.stdout and "8000 train / 2000 held out" in result.stdout


def test_missing_data_says_where_it_looked_and_how_to_download(only):
    with pytest.raises(mnist_loader.MnistError, match="python -m mnist_loader download") as exc:
        mnist_loader.load_course_subset()
    assert str(only) in str(exc.value)
    result = loader_cli("info", env_dir=only)
    assert result.returncode == 1 and "MNIST not found" in result.stderr and "Traceback" not in result.stderr


@needs_mnist
def test_a_damaged_file_is_refused_by_its_checksum(only):
    for name in T10K:
        shutil.copy(SHARED / name, only / name)
    data = bytearray((only / T10K[0]).read_bytes())
    data[-100] ^= 0xFF
    (only / T10K[0]).write_bytes(bytes(data))
    with pytest.raises(mnist_loader.MnistError, match="damaged or not MNIST: MD5"):
        mnist_loader.load_test_set()


@needs_mnist
def test_only_the_test_set_is_not_enough_for_nielsens_full_split(only):
    for name in T10K:
        shutil.copy(SHARED / name, only / name)
    with pytest.raises(mnist_loader.MnistError, match="only the test set"):
        mnist_loader.load_data_wrapper()


def write_pickle(path, splits):
    with gzip.open(path, "wb", compresslevel=1) as f:
        pickle.dump(splits, f, protocol=2)


@needs_mnist
def test_nielsens_pickle_gives_the_same_test_set(only, monkeypatch):
    images, labels = mnist_loader.load_test_set(SHARED)
    small = lambda n: (images[:n].astype(np.float32), labels[:n])  # noqa: E731
    monkeypatch.setattr(mnist_loader, "PICKLE_SIZES", (50, 20, 10000))
    write_pickle(only / "mnist.pkl.gz", (small(50), small(20), (images.astype(np.float32), labels)))
    from_pickle, pickle_labels = mnist_loader.load_test_set()
    assert np.array_equal(pickle_labels, labels)
    assert np.allclose(from_pickle, images, atol=1e-7)
    training, validation, test = mnist_loader.load_data_wrapper()
    assert len(training) == 50 and training[0][0].shape == (784, 1) and training[0][1].shape == (10, 1)
    assert len(validation) == 20 and len(test) == 10000
    with pytest.raises(mnist_loader.MnistError, match="raw bytes need the IDX files"):
        mnist_loader.load_test_set(as_bytes=True)


class RunsCode:
    def __reduce__(self):
        return (subprocess.call, (["touch", "/tmp/mnist-loader-was-fooled"],))


def test_a_pickle_that_would_run_code_is_refused(only):
    write_pickle(only / "mnist.pkl.gz", (RunsCode(), None, None))
    with pytest.raises(mnist_loader.MnistError, match="refused"):
        mnist_loader.read_pickle(only / "mnist.pkl.gz")
    assert not (REPO.parent / "tmp" / "mnist-loader-was-fooled").exists()
    import os
    assert not os.path.exists("/tmp/mnist-loader-was-fooled")


def test_a_pickle_with_the_wrong_layout_is_refused(only):
    write_pickle(only / "mnist.pkl.gz", ((np.zeros((3, 784), np.float32), np.zeros(3, np.int64)),) * 3)
    with pytest.raises(mnist_loader.MnistError, match="does not have the layout"):
        mnist_loader.read_pickle(only / "mnist.pkl.gz")
    (only / "mnist.pkl.gz").write_bytes(b"not gzip at all")
    with pytest.raises(mnist_loader.MnistError, match="damaged"):
        mnist_loader.read_pickle(only / "mnist.pkl.gz")


@needs_mnist
def test_download_verifies_each_file_and_keeps_only_good_ones(tmp_path, monkeypatch):
    mirror, dest = tmp_path / "mirror", tmp_path / "dest"
    mirror.mkdir()
    for name in T10K:
        shutil.copy(SHARED / name, mirror / name)
    monkeypatch.setattr(mnist_loader, "IDX_FILES", {n: mnist_loader.IDX_FILES[n] for n in T10K})
    mnist_loader.download(dest, "idx", mirror=mirror.as_uri())
    assert sorted(p.name for p in dest.iterdir()) == sorted(T10K)
    mnist_loader.load_test_set(dest)  # verified and readable
    # A mirror serving a damaged file: an error, and nothing half-written left behind.
    (mirror / T10K[1]).write_bytes(b"\x1f\x8b garbage")
    (dest / T10K[1]).unlink()
    with pytest.raises(mnist_loader.MnistError, match="wrong MD5; nothing was kept"):
        mnist_loader.download(dest, "idx", mirror=mirror.as_uri())
    assert sorted(p.name for p in dest.iterdir()) == [T10K[0]]


def test_download_without_internet_is_a_clear_error(tmp_path):
    result = loader_cli("download", "--dest", str(tmp_path), "--mirror", (tmp_path / "nowhere").as_uri())
    assert result.returncode == 1 and "could not download" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.part"))
