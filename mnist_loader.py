"""MNIST for the course: find it, check it, load it in Nielsen's format.

Reads either the four standard IDX files (``train-images-idx3-ubyte.gz``, ...)
or Nielsen's ``mnist.pkl.gz``. IDX files are checked against their published
MD5 sums before use. ``mnist.pkl.gz`` has no published checksum, so it is read
with an unpickler that can only rebuild NumPy arrays (never run code) and its
shapes and value ranges are checked.

Where it looks, in order: the folder you pass, then ``$MNIST_DIR`` if it is set
(and then nowhere else), else ``data/mnist`` in the course repository and
``../shared/data/mnist`` beside it.

The course subset, used by lectures, demos and the hw2 grader alike, is the
10,000-image MNIST test set split into 8,000 training images (the first
8,000) and 2,000 held out (the last 2,000): every format above contains it.

Command line::

    python -m mnist_loader info                  # what is found, and where
    python -m mnist_loader download [--dest DIR] [--format idx|pkl]
"""
import argparse
import codecs
import gzip
import hashlib
import io
import os
import pickle
import shutil
import struct
import sys
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent
IDX_FILES = {  # name -> published MD5
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
PICKLE_FILE = "mnist.pkl.gz"
IDX_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
PICKLE_URL = "https://github.com/mnielsen/neural-networks-and-deep-learning/raw/master/data/mnist.pkl.gz"
N_TRAIN, N_HELD_OUT = 8000, 2000
DOWNLOAD_HINT = "python -m mnist_loader download"


class MnistError(Exception):
    """MNIST is missing or a file is damaged; the message says what to do."""


def search_dirs(data_dir=None):
    dirs = [Path(data_dir)] if data_dir else []
    if os.environ.get("MNIST_DIR"):
        return dirs + [Path(os.environ["MNIST_DIR"])]
    return dirs + [REPO / "data" / "mnist", REPO.parent / "shared" / "data" / "mnist"]


def find_data_dir(data_dir=None):
    """The first folder holding the test set in either format; MnistError if none."""
    looked = search_dirs(data_dir)
    for folder in looked:
        if (folder / PICKLE_FILE).is_file() or all((folder / n).is_file() for n in list(IDX_FILES)[2:]):
            return folder
    places = "\n  ".join(str(p) for p in looked)
    raise MnistError(f"MNIST not found. Looked in:\n  {places}\n"
                     f"Download it with `{DOWNLOAD_HINT}` (needs internet), or set MNIST_DIR.")


def md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path):
    """Check an IDX file against its published MD5; MnistError when it differs."""
    path = Path(path)
    expected = IDX_FILES.get(path.name)
    if expected is None:
        raise MnistError(f"{path.name} is not one of the MNIST IDX files ({', '.join(IDX_FILES)})")
    actual = md5(path)
    if actual != expected:
        raise MnistError(f"{path} is damaged or not MNIST: MD5 {actual}, expected {expected}. "
                         f"Delete it and run `{DOWNLOAD_HINT}`.")


def read_idx(path):
    """An IDX .gz file as a uint8 array: images (n, 28, 28) or labels (n,). Verified first."""
    verify(path)
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise MnistError(f"{path} is not an unsigned-byte IDX file")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _frombuffer(buffer, dtype, shape, order):
    return np.frombuffer(buffer, dtype=dtype).reshape(shape, order=order)


class _ArraysOnly(pickle.Unpickler):
    """Rebuilds NumPy arrays and tuples and refuses everything else (no code runs).

    Accepts pickles written by Python 2 (Nielsen's file) and by Python 3 with any protocol.
    """

    SAFE = {"_reconstruct": np.zeros(1).__reduce__()[0],  # numpy's array-rebuilding function
            "_frombuffer": _frombuffer, "ndarray": np.ndarray, "dtype": np.dtype, "encode": codecs.encode}
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return self.SAFE[name]
        raise MnistError(f"{PICKLE_FILE} holds an object of type {module}.{name}: refused (not MNIST)")


PICKLE_SIZES = (50000, 10000, 10000)


def read_pickle(path, sizes=None):
    """Nielsen's mnist.pkl.gz: ((train_x, train_y), (valid_x, valid_y), (test_x, test_y)),
    images (n, 784) float32 in [0, 1], labels (n,) ints; shapes and ranges are checked."""
    try:
        with gzip.open(path, "rb") as f:
            splits = _ArraysOnly(io.BytesIO(f.read()), encoding="latin1").load()
    except MnistError:
        raise
    except Exception as exc:
        raise MnistError(f"{path} is damaged ({type(exc).__name__}: {exc}). "
                         f"Delete it and run `{DOWNLOAD_HINT} --format pkl`.") from None
    sizes = sizes or PICKLE_SIZES
    ok = isinstance(splits, tuple) and len(splits) == 3
    for (size, split) in zip(sizes, splits if ok else ()):
        x, y = split if isinstance(split, tuple) and len(split) == 2 else (None, None)
        ok = ok and isinstance(x, np.ndarray) and x.shape == (size, 784) and x.dtype.kind == "f"
        ok = ok and isinstance(y, np.ndarray) and y.shape == (size,) and y.dtype.kind in "iu"
        ok = ok and float(x.min()) >= 0.0 and float(x.max()) <= 1.0 and int(y.min()) >= 0 and int(y.max()) <= 9
    if not ok:
        raise MnistError(f"{path} does not have the layout of Nielsen's mnist.pkl.gz "
                         f"({'/'.join(map(str, sizes))} images of 784 pixels in [0, 1])")
    return splits


def load_test_set(data_dir=None, as_bytes=False):
    """The 10,000 MNIST test images as (images (10000, 784) float64 in [0, 1], labels (10000,) int).

    With ``as_bytes`` the images are the raw uint8 pixels (0 to 255; IDX files only).
    """
    folder = find_data_dir(data_dir)
    if all((folder / n).is_file() for n in list(IDX_FILES)[2:]):
        images = read_idx(folder / "t10k-images-idx3-ubyte.gz").reshape(-1, 784)
        images = images if as_bytes else images / 255.0
        labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    else:
        if as_bytes:
            raise MnistError(f"{folder} holds mnist.pkl.gz, whose images are floats; raw bytes need the IDX files")
        images, labels = read_pickle(folder / PICKLE_FILE)[2]
        images, labels = images.astype(np.float64), labels.astype(np.int64)
    if images.shape != (10000, 784) or labels.shape != (10000,):
        raise MnistError(f"the MNIST test set in {folder} has {len(labels)} labels for {len(images)} images")
    return images, labels


def load_course_subset(data_dir=None, as_bytes=False):
    """The course's split of the test set, as arrays with one example per column:
    (X_train (784, 8000), labels_train (8000,), X_held_out (784, 2000), labels_held_out (2000,)).
    ``as_bytes``: uint8 pixels instead of floats in [0, 1] (see load_test_set)."""
    images, labels = load_test_set(data_dir, as_bytes)
    X = np.ascontiguousarray(images.T)
    return X[:, :N_TRAIN], labels[:N_TRAIN], X[:, N_TRAIN:], labels[N_TRAIN:]


def one_hot(labels, classes=10):
    """labels (m,) -> (classes, m) with a 1.0 in each column's label row."""
    Y = np.zeros((classes, len(labels)))
    Y[labels, np.arange(len(labels))] = 1.0
    return Y


def as_pairs(X, labels, one_hot_targets):
    """Nielsen's list-of-pairs format: x of shape (784, 1) with y one-hot (10, 1) or an int label."""
    if one_hot_targets:
        Y = one_hot(labels)
        return [(X[:, i:i + 1], Y[:, i:i + 1]) for i in range(X.shape[1])]
    return [(X[:, i:i + 1], int(label)) for i, label in enumerate(labels)]


def load_subset_wrapper(data_dir=None):
    """(training_data, test_data) for Nielsen-style code: 8,000 training pairs with
    one-hot targets and 2,000 held-out pairs with int labels."""
    X_train, y_train, X_test, y_test = load_course_subset(data_dir)
    return as_pairs(X_train, y_train, True), as_pairs(X_test, y_test, False)


def load_data_wrapper(data_dir=None):
    """Nielsen's full split (training 50,000, validation 10,000, test 10,000) as lists of
    pairs; needs mnist.pkl.gz or all four IDX files (download them first)."""
    folder = find_data_dir(data_dir)
    if all((folder / n).is_file() for n in IDX_FILES):
        images = read_idx(folder / "train-images-idx3-ubyte.gz").reshape(-1, 784).T / 255.0
        labels = read_idx(folder / "train-labels-idx1-ubyte.gz").astype(np.int64)
        train, valid = (images[:, :50000], labels[:50000]), (images[:, 50000:], labels[50000:])
        test = tuple(a.T if a.ndim == 2 else a for a in load_test_set(folder))
    elif (folder / PICKLE_FILE).is_file():
        train, valid, test = [(x.T.astype(np.float64), y.astype(np.int64)) for x, y in read_pickle(folder / PICKLE_FILE)]
    else:
        raise MnistError(f"{folder} holds only the test set; the full training set needs "
                         f"`{DOWNLOAD_HINT}` (or use load_subset_wrapper())")
    return as_pairs(*train, True), as_pairs(*valid, False), as_pairs(*test, False)


# ---------------------------------------------------------------- command line
def download(dest, fmt="idx", mirror=None, out=sys.stdout):
    """Fetch MNIST into ``dest``, checking each file before it is kept."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if fmt == "idx":
        base = mirror or IDX_MIRROR
        wanted = [(name, base.rstrip("/") + "/" + name) for name in IDX_FILES]
    else:
        wanted = [(PICKLE_FILE, (mirror.rstrip("/") + "/" + PICKLE_FILE) if mirror else PICKLE_URL)]
    for name, url in wanted:
        target = dest / name
        if target.is_file() and (fmt != "idx" or md5(target) == IDX_FILES[name]):
            print(f"{name}: already here", file=out)
            continue
        print(f"{name}: downloading {url}", file=out)
        with tempfile.NamedTemporaryFile(dir=dest, delete=False, suffix=".part") as part:
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    shutil.copyfileobj(response, part)
            except OSError as exc:
                os.unlink(part.name)
                raise MnistError(f"could not download {url}: {exc}") from None
        try:
            if fmt == "idx" and md5(part.name) != IDX_FILES[name]:
                raise MnistError(f"{url} gave a file with the wrong MD5; nothing was kept")
            if fmt == "pkl":
                read_pickle(part.name)
        except MnistError:
            os.unlink(part.name)
            raise
        os.replace(part.name, target)
    print(f"MNIST is in {dest}", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mnist_loader", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="show which MNIST files are found and check them")
    info.add_argument("--dir", help="folder to look in first")
    get = sub.add_parser("download", help="download MNIST (needs internet)")
    get.add_argument("--dest", default=str(REPO / "data" / "mnist"), help="where to put it (default: data/mnist)")
    get.add_argument("--format", choices=["idx", "pkl"], default="idx",
                     help="idx: the four official files (default); pkl: Nielsen's mnist.pkl.gz")
    get.add_argument("--mirror", help="base URL to download from instead of the default")
    args = parser.parse_args(argv)
    try:
        if args.command == "download":
            download(args.dest, args.format, args.mirror)
            return 0
        folder = find_data_dir(args.dir)
        for path in sorted(folder.iterdir()):
            if path.name in IDX_FILES:
                verify(path)
                print(f"{path}: MD5 ok")
            elif path.name == PICKLE_FILE:
                read_pickle(path)
                print(f"{path}: layout ok")
        images, labels = load_test_set(folder)
        print(f"test set: {len(labels)} images; course subset {N_TRAIN} train / {N_HELD_OUT} held out")
        return 0
    except MnistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
