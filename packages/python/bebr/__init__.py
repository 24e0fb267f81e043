"""bebr for Python: the bundled SQLite extension, a loader and a float32 BLOB helper.

    import sqlite3, bebr
    db = sqlite3.connect(":memory:")
    bebr.load(db)                                   # bebr_* functions and the bebr module
    db.execute("CREATE VIRTUAL TABLE t USING bebr(v float[3], bits=1)")
    db.execute("INSERT INTO t(rowid, v) VALUES (1, ?)", (bebr.serialize_float32([1, -2, 3]),))

numpy is optional: serialize_float32 imports it only when handed a numpy array.
"""
import array
import math
import os
import struct

__all__ = ["load", "loadable_path", "serialize_float32", "LoadError", "__version__"]
__version__ = "0.1.0"


class LoadError(RuntimeError):
    """The extension could not be loaded into the connection."""


def loadable_path():
    """The absolute path of the bundled bebr.so (for load_extension, apsw, sqlite-utils)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "bebr.so")


def load(conn):
    """Loads bebr into conn (a sqlite3.Connection, or any connection with the same
    enable_load_extension and load_extension methods).

    Extension loading is enabled for the load only and disabled again afterwards, so SQL run
    later on conn cannot load other extensions. Raises LoadError when conn's sqlite3 module
    was built without extension loading, or when SQLite refuses the library (the message is
    SQLite's, e.g. bebr's own "needs SQLite >= 3.38.0").
    """
    enable = getattr(conn, "enable_load_extension", None)
    if enable is None or not hasattr(conn, "load_extension"):
        raise LoadError(
            "bebr.load: this Python's sqlite3 module cannot load extensions (it was built "
            "without them, as pyenv and python.org builds often are); use a Python whose "
            "sqlite3 has enable_load_extension, e.g. Debian's /usr/bin/python3, or apsw")
    path = loadable_path()
    if not os.path.isfile(path):
        raise LoadError("bebr.load: the bundled extension is missing; expected " + path)
    enable(True)
    try:
        conn.load_extension(path)
    except Exception as e:  # sqlite3.OperationalError, or the binding's own error type
        raise LoadError("bebr.load: SQLite could not load %s: %s" % (path, e)) from e
    finally:
        enable(False)


_F32_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]


def _check(i, x):
    """x as a Python float, or a clear error naming element i."""
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        # numpy scalars and other number types convert through float(); text and bool never do.
        if isinstance(x, (str, bytes, bytearray, bool)) or not hasattr(x, "__float__"):
            raise TypeError("bebr.serialize_float32: element %d is not a number; expected "
                            "int or float, got %s" % (i, type(x).__name__))
    f = float(x)
    if math.isnan(f):
        raise ValueError("bebr.serialize_float32: element %d is NaN; expected finite "
                         "numbers" % i)
    if math.isinf(f):
        raise ValueError("bebr.serialize_float32: element %d is %s; expected finite "
                         "numbers" % (i, "Inf" if f > 0 else "-Inf"))
    if abs(f) > _F32_MAX:
        raise ValueError("bebr.serialize_float32: element %d is out of float32 range; "
                         "expected |x| <= %g, got %r" % (i, _F32_MAX, f))
    return f


def _from_numpy(v):
    import numpy as np  # only here: numpy is optional

    a = np.asarray(v)
    if a.ndim != 1:
        raise ValueError("bebr.serialize_float32: expected a 1-d array, got shape %s"
                         % (a.shape,))
    if a.dtype.kind not in "iuf":
        raise TypeError("bebr.serialize_float32: expected a numeric array, got dtype %s"
                        % a.dtype)
    if a.size == 0:
        raise ValueError("bebr.serialize_float32: the vector is empty; expected at least "
                         "one element")
    bad = np.flatnonzero(~np.isfinite(a)) if a.dtype.kind == "f" else []
    if len(bad):
        _check(int(bad[0]), float(a[bad[0]]))
    with np.errstate(over="ignore"):
        f = a.astype("<f4")
    bad = np.flatnonzero(~np.isfinite(f))
    if len(bad):
        _check(int(bad[0]), float(a[bad[0]]))
    return f.tobytes()


def serialize_float32(v):
    """The vector v as a BLOB of little-endian float32 values, 4 bytes an element, the form
    bebr's float[N] columns and MATCH take (what bebr_f32 returns).

    v: a list or tuple of ints and floats, an array.array, or a 1-d numpy array (any int or
    float dtype). Raises ValueError for an empty vector, NaN, Inf or a value beyond float32's
    range, TypeError for anything that is not a number, naming the element.
    """
    if type(v).__module__ == "numpy" or type(v).__module__.startswith("numpy."):
        return _from_numpy(v)
    if isinstance(v, (str, bytes, bytearray, memoryview)):
        raise TypeError("bebr.serialize_float32: expected a sequence of numbers, got %s"
                        % type(v).__name__)
    if isinstance(v, array.array):
        if v.typecode in ("u", "w"):
            raise TypeError("bebr.serialize_float32: expected a numeric array.array, got "
                            "typecode %r" % v.typecode)
    elif not isinstance(v, (list, tuple)):
        raise TypeError("bebr.serialize_float32: expected a list, tuple, array.array or "
                        "numpy array of numbers, got %s" % type(v).__name__)
    if len(v) == 0:
        raise ValueError("bebr.serialize_float32: the vector is empty; expected at least "
                         "one element")
    values = [_check(i, x) for i, x in enumerate(v)]
    return struct.pack("<%df" % len(values), *values)
