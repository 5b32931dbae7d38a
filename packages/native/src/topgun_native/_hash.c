/*
 * TopGun native kernels: FNV-1a (32 bit) over UTF-16 code units.
 *
 * The hash must equal what a browser computes with charCodeAt, so it walks the
 * string's code points and feeds each one as UTF-16 code units: code points above
 * U+FFFF become a surrogate pair, everything else (lone surrogates included) is one
 * unit. CPython stores strings as 1-, 2- or 4-byte code points (PEP 393); each kind
 * gets its own tight loop and no intermediate UTF-16 buffer is built.
 *
 * merkle_item_hash(key, millis, counter, node_id) equals
 * hash32(f"{key}:{millis}:{counter}:{node_id}") without building that string.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define FNV_OFFSET 0x811C9DC5u
#define FNV_PRIME 0x01000193u

static inline uint32_t fnv_unit(uint32_t h, uint32_t unit) {
    return (h ^ unit) * FNV_PRIME;
}

static uint32_t fnv_str(uint32_t h, PyObject *s) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    const void *data = PyUnicode_DATA(s);
    switch (PyUnicode_KIND(s)) {
    case PyUnicode_1BYTE_KIND: {
        const Py_UCS1 *p = (const Py_UCS1 *)data;
        for (Py_ssize_t i = 0; i < n; i++) h = fnv_unit(h, p[i]);
        break;
    }
    case PyUnicode_2BYTE_KIND: {
        const Py_UCS2 *p = (const Py_UCS2 *)data;
        for (Py_ssize_t i = 0; i < n; i++) h = fnv_unit(h, p[i]);
        break;
    }
    default: {
        const Py_UCS4 *p = (const Py_UCS4 *)data;
        for (Py_ssize_t i = 0; i < n; i++) {
            Py_UCS4 cp = p[i];
            if (cp > 0xFFFF) {
                cp -= 0x10000;
                h = fnv_unit(h, 0xD800 | (cp >> 10));
                h = fnv_unit(h, 0xDC00 | (cp & 0x3FF));
            } else {
                h = fnv_unit(h, cp);
            }
        }
        break;
    }
    }
    return h;
}

/* Feed the decimal rendering of v (as Python's str(int) renders it). */
static uint32_t fnv_int(uint32_t h, long long v) {
    char buf[24];
    int len = 0;
    unsigned long long u;
    if (v < 0) {
        h = fnv_unit(h, '-');
        u = (unsigned long long)(-(v + 1)) + 1u;
    } else {
        u = (unsigned long long)v;
    }
    do {
        buf[len++] = (char)('0' + (u % 10u));
        u /= 10u;
    } while (u);
    while (len) h = fnv_unit(h, (unsigned char)buf[--len]);
    return h;
}

static int check_str(PyObject *obj, const char *what) {
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    return 0;
}

static PyObject *hash32(PyObject *self, PyObject *arg) {
    (void)self;
    if (check_str(arg, "hash32() argument") < 0) return NULL;
    return PyLong_FromUnsignedLong(fnv_str(FNV_OFFSET, arg));
}

static PyObject *hash32_many(PyObject *self, PyObject *arg) {
    (void)self;
    PyObject *seq = PySequence_Fast(arg, "hash32_many() argument must be a sequence of str");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    PyObject *out = PyList_New(n);
    if (out == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (check_str(items[i], "hash32_many() item") < 0) {
            Py_DECREF(out);
            Py_DECREF(seq);
            return NULL;
        }
        PyObject *v = PyLong_FromUnsignedLong(fnv_str(FNV_OFFSET, items[i]));
        if (v == NULL) {
            Py_DECREF(out);
            Py_DECREF(seq);
            return NULL;
        }
        PyList_SET_ITEM(out, i, v);
    }
    Py_DECREF(seq);
    return out;
}

static PyObject *merkle_item_hash(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "merkle_item_hash() takes 4 arguments (%zd given)", nargs);
        return NULL;
    }
    if (check_str(args[0], "key") < 0 || check_str(args[3], "node_id") < 0) return NULL;
    if (!PyLong_Check(args[1]) || !PyLong_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "millis and counter must be int");
        return NULL;
    }
    long long millis = PyLong_AsLongLong(args[1]);
    if (millis == -1 && PyErr_Occurred()) return NULL;
    long long counter = PyLong_AsLongLong(args[2]);
    if (counter == -1 && PyErr_Occurred()) return NULL;
    uint32_t h = fnv_str(FNV_OFFSET, args[0]);
    h = fnv_unit(h, ':');
    h = fnv_int(h, millis);
    h = fnv_unit(h, ':');
    h = fnv_int(h, counter);
    h = fnv_unit(h, ':');
    h = fnv_str(h, args[3]);
    return PyLong_FromUnsignedLong(h);
}

static PyMethodDef methods[] = {
    {"hash32", hash32, METH_O, "FNV-1a 32-bit hash over the UTF-16 code units of a str."},
    {"hash32_many", hash32_many, METH_O, "hash32 of every str in a sequence, as a list."},
    {"merkle_item_hash", (PyCFunction)(void (*)(void))merkle_item_hash, METH_FASTCALL,
     "hash32(f'{key}:{millis}:{counter}:{node_id}') without building the string."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "topgun_native._hash",
    "FNV-1a over UTF-16 code units (TopGun's one hash).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__hash(void) { return PyModule_Create(&module); }
