"""The CuPy stand-in refuses what CuPy refuses, and allows what CuPy allows.

Each case is CuPy's documented or coded behaviour (cupy/_core/core.pyx:
``__array__``, ``__array_ufunc__``, ``__array_function__``, the binary
operators and their ``_should_use_rop``; cupy/_core/_kernel.pyx and _scalar.pyx:
a kernel argument that is neither a device array nor a Python or NumPy scalar
is an "Unsupported type"; tests/cupy_tests/core_tests/test_ndarray_ufunc.py and
test_array_function.py). A submission that mixes host and device arrays must
fail on the stand-in as it would on a GPU, and one that keeps to the rules must
run on both.

The stand-in is loaded under another name, so that it never stands in for a
real CuPy in this process. Where CuPy computes on a GPU, the same cases run
against it too (marked gpu): the stand-in's rules are checked against CuPy's.
"""
import importlib.util
import sys
import warnings

import numpy as np
import pytest

from helpers import REPO

STAND_IN = REPO / "tests" / "gpu_stand_in" / "cupy"


def load_stand_in():
    name = "cupy_stand_in_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, STAND_IN / "__init__.py",
                                                      submodule_search_locations=[str(STAND_IN)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


cp = load_stand_in()
HOST = np.arange(1.0, 7.0).reshape(2, 3)
BOTH = pytest.mark.parametrize("xp", ["stand-in", pytest.param("cupy", marks=pytest.mark.gpu)], indirect=True)


@pytest.fixture
def xp(request):
    """The module under test: the stand-in, or (marked gpu) CuPy itself."""
    if request.param == "cupy":
        import cupy
        return cupy
    return cp


@pytest.fixture
def d(xp):
    """A float64 (2, 3) device array holding HOST."""
    return xp.asarray(HOST)


def kernel(xp, z):
    return xp.ElementwiseKernel("T z", "T s", "s = z * 2;", "double_it")(z)


def add_in_place(a, b):
    a += b
    return a


# Each needs a host array where CuPy needs a device array: TypeError.
REFUSED = {
    "device + host": lambda xp, d, h: d + h,
    "host + device": lambda xp, d, h: h + d,
    "device - host": lambda xp, d, h: d - h,
    "host * device": lambda xp, d, h: h * d,
    "device / host": lambda xp, d, h: d / h,
    "device @ host": lambda xp, d, h: d @ h.T,
    "host @ device": lambda xp, d, h: h.T @ d,
    "device + 0-d host array": lambda xp, d, h: d + np.array(2.0),
    "device += host": lambda xp, d, h: add_in_place(d, h),
    "host += device": lambda xp, d, h: add_in_place(h.copy(), d),
    "numpy.asarray(device)": lambda xp, d, h: np.asarray(d),
    "numpy.array(device)": lambda xp, d, h: np.array(d),
    "numpy.add(device, host)": lambda xp, d, h: np.add(d, h),
    "numpy.add(host, device)": lambda xp, d, h: np.add(h, d),
    "numpy.add(device, device, out=host)": lambda xp, d, h: np.add(d, d, out=h.copy()),
    "numpy.add(host, host, out=device)": lambda xp, d, h: np.add(h, h, out=d),
    "numpy.maximum(device, host)": lambda xp, d, h: np.maximum(d, h),
    "numpy.concatenate([device, host])": lambda xp, d, h: np.concatenate([d, h]),
    "numpy.dot(host, device)": lambda xp, d, h: np.dot(h, d.T),
    "numpy.where(device, host, 0)": lambda xp, d, h: np.where(d > 2, h, 0.0),
    "cupy.exp(host)": lambda xp, d, h: xp.exp(h),
    "cupy.exp(list)": lambda xp, d, h: xp.exp([1.0, 2.0]),
    "cupy.matmul(device, host)": lambda xp, d, h: xp.matmul(d, h.T),
    "cupy.dot(device, host)": lambda xp, d, h: xp.dot(d, h.T),
    "device.dot(host)": lambda xp, d, h: d.dot(h.T),
    "cupy.maximum(host, 0)": lambda xp, d, h: xp.maximum(h, 0),
    "cupy.concatenate([device, host])": lambda xp, d, h: xp.concatenate([d, h]),
    "cupy.where(device, host, 0)": lambda xp, d, h: xp.where(d > 2, h, 0.0),
    "kernel(host)": lambda xp, d, h: kernel(xp, h),
}


@BOTH
@pytest.mark.parametrize("case", sorted(REFUSED))
def test_mixing_host_and_device_arrays_is_refused(xp, d, case):
    with pytest.raises(TypeError):
        REFUSED[case](xp, d, HOST.copy())


@BOTH
def test_implicit_conversion_says_what_cupy_says(d):
    with pytest.raises(TypeError, match=r"Implicit conversion to a NumPy array is not allowed\. "
                                        r"Please use `\.get\(\)` to construct a NumPy array explicitly\."):
        np.asarray(d)


# Each is allowed by CuPy and gives a device array equal to NumPy's result on the host values.
ALLOWED = {
    "device + Python int": (lambda xp, d: d + 2, lambda h: h + 2),
    "Python float * device": (lambda xp, d: 2.5 * d, lambda h: 2.5 * h),
    "device * NumPy scalar": (lambda xp, d: d * np.float32(3), lambda h: h * np.float32(3)),
    "NumPy scalar - device": (lambda xp, d: np.float64(1) - d, lambda h: np.float64(1) - h),
    "device ** 2": (lambda xp, d: d ** 2, lambda h: h ** 2),
    "1 / device": (lambda xp, d: 1 / d, lambda h: 1 / h),
    "-abs(device)": (lambda xp, d: -abs(d), lambda h: -abs(h)),
    "device @ device": (lambda xp, d: d @ d.T, lambda h: h @ h.T),
    "device += device": (lambda xp, d: add_in_place(d, d), lambda h: add_in_place(h, h)),
    "numpy.exp(device)": (lambda xp, d: np.exp(d), np.exp),
    "numpy.add(device, device)": (lambda xp, d: np.add(d, d), lambda h: np.add(h, h)),
    "numpy.sum(device, axis=1)": (lambda xp, d: np.sum(d, axis=1), lambda h: np.sum(h, axis=1)),
    "numpy.zeros_like(device)": (lambda xp, d: np.zeros_like(d), np.zeros_like),
    "device == 0-d host array": (lambda xp, d: d == np.array(2.0), lambda h: h == 2.0),
    "device < Python float": (lambda xp, d: d < 3.5, lambda h: h < 3.5),
    "device[:, host indices]": (lambda xp, d: d[:, np.array([0, 2])], lambda h: h[:, np.array([0, 2])]),
    "device[device indices]": (lambda xp, d: d[:, xp.asarray(np.array([2, 1]))], lambda h: h[:, [2, 1]]),
    "cupy.exp(device)": (lambda xp, d: xp.exp(d), np.exp),
    "cupy.zeros_like(host)": (lambda xp, d: xp.zeros_like(HOST), np.zeros_like),
    "cupy.where(device, device, 0)": (lambda xp, d: xp.where(d > 2, d, 0.0), lambda h: np.where(h > 2, h, 0.0)),
    "cupy.asarray(host)": (lambda xp, d: xp.asarray(HOST), lambda h: h),
    "cupy.array(host)": (lambda xp, d: xp.array(HOST), lambda h: h),
    "device.sum(axis=1, keepdims=True)": (lambda xp, d: d.sum(axis=1, keepdims=True),
                                          lambda h: h.sum(axis=1, keepdims=True)),
    "device.sum() (a 0-d device array)": (lambda xp, d: d.sum(), lambda h: np.asarray(h.sum())),
    "kernel(device)": (kernel, lambda h: h * 2),
    "kernel(Python scalar) keeps a device dtype": (
        lambda xp, d: xp.ElementwiseKernel("T x, T y", "T z", "z = x * y;", "times")(d, 2.0), lambda h: h * 2.0),
}


@BOTH
@pytest.mark.parametrize("case", sorted(ALLOWED))
def test_what_cupy_allows_gives_device_arrays(xp, d, case):
    on_device, on_host = ALLOWED[case]
    result = on_device(xp, d)
    assert isinstance(result, xp.ndarray) and not isinstance(result, np.ndarray), type(result)
    expected = on_host(HOST.copy())
    assert result.dtype == expected.dtype and result.shape == expected.shape
    assert np.array_equal(result.get(), expected)


@BOTH
def test_setting_device_values_from_the_host_is_a_copy_cupy_makes(d):
    d[0] = np.array([7.0, 8.0, 9.0])
    d[1, 1:] = 0.0
    assert np.array_equal(d.get(), [[7.0, 8.0, 9.0], [4.0, 0.0, 0.0]])


@BOTH
def test_a_cupy_function_that_calls_the_arrays_method_gives_a_host_result_for_a_host_array(xp):
    # cupy.sum(a) is a.sum() in CuPy (cupy/_math/sumprod.py): NumPy's method for a NumPy array.
    total = xp.sum(HOST)
    assert type(total) is np.float64 and total == HOST.sum()


@pytest.mark.parametrize("xp", ["stand-in"], indirect=True)
def test_a_device_array_is_not_a_numpy_array(d):
    assert not isinstance(d, np.ndarray)
    assert cp.get_array_module(d) is cp and cp.get_array_module(HOST) is np
    assert type(d).__module__ == "cupy"


@pytest.mark.parametrize("read", ["float", "int", "bool", "item", "tolist", "repr", "asnumpy"])
def test_every_read_on_the_host_goes_through_get(monkeypatch, read):
    copies = []
    original = cp.ndarray.get

    def counted(self, *args, **kwargs):
        copies.append(1)
        return original(self, *args, **kwargs)
    monkeypatch.setattr(cp.ndarray, "get", counted)
    one = cp.asarray(np.array([[3.0]])).sum()
    value = {"float": float, "int": int, "bool": bool, "item": lambda a: a.item(), "tolist": lambda a: a.tolist(),
             "repr": repr, "asnumpy": cp.asnumpy}[read](one)
    assert copies == [1], f"{read} read the value without get()"
    assert "3" in str(value) or value is True


@BOTH
def test_explicit_copies_check_what_cupy_checks(d):
    host = d.get()
    assert type(host) is np.ndarray and np.array_equal(host, HOST)
    host[0, 0] = 100.0
    assert d.get()[0, 0] == 1.0, "get() must copy"
    d.set(np.zeros((2, 3)))
    assert not d.get().any()
    with pytest.raises(TypeError):
        d.set(np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError):
        d.set(np.zeros((3, 2)))
    with pytest.raises(TypeError):
        d.set([[0.0] * 3] * 2)


@BOTH
def test_dtype_promotion_follows_numpy_2(xp, d):
    f32 = d.astype(np.float32)
    assert (f32 * 0.5).dtype == np.float32, "a Python float is weak"
    assert (f32 * np.float64(0.5)).dtype == np.float64, "a NumPy float64 scalar promotes"
    assert xp.exp(f32).dtype == np.float32


@BOTH
def test_the_device_raises_no_floating_point_warnings(xp):
    big = xp.asarray(np.array([-1000.0, 0.0, 1000.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = xp.exp(-big)
        s = 1 / (1 + e)
    assert np.array_equal(s.get(), [0.0, 0.5, 1.0])


@BOTH
def test_views_share_device_memory(d):
    row = d[0]
    row *= 10
    assert np.array_equal(d.get()[0], HOST[0] * 10)
