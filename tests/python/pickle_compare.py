"""Helpers for the pickle round-trip tests: a deep comparison that also checks object
identity (sharing and cycles), and a check that a stream uses only the opcodes
fsdpshard's pickler may write (docs/FORMATS.md section 2)."""
import datetime
import math
import pickletools
import struct
import types
import typing

ALLOWED_OPCODES = {
    'PROTO', 'GLOBAL', 'REDUCE', 'BUILD', 'NEWOBJ', 'BINPERSID', 'MARK', 'TUPLE', 'TUPLE1',
    'TUPLE2', 'TUPLE3', 'EMPTY_TUPLE', 'EMPTY_LIST', 'EMPTY_DICT', 'APPEND', 'APPENDS',
    'SETITEM', 'SETITEMS', 'NONE', 'NEWTRUE', 'NEWFALSE', 'BININT', 'BININT1', 'BININT2',
    'LONG1', 'LONG4', 'BINFLOAT', 'BINUNICODE', 'SHORT_BINSTRING', 'BINPUT', 'LONG_BINPUT',
    'BINGET', 'LONG_BINGET', 'STOP', 'POP_MARK', 'POP',
}


def opcode_problems(data):
    """Names of disallowed opcodes in `data`, plus a complaint if it is not protocol 2."""
    problems = []
    ops = list(pickletools.genops(data))
    if not ops or ops[0][0].name != 'PROTO' or ops[0][1] != 2:
        problems.append('does not start with PROTO 2')
    bad = sorted({op.name for op, _, _ in ops} - ALLOWED_OPCODES)
    if bad:
        problems.append('disallowed opcodes: ' + ', '.join(bad))
    return problems


class Mismatch(Exception):
    pass


# Values compared by value only: Python may share or copy them freely.
_VALUE_TYPES = (type(None), bool, int, str, bytes, complex, datetime.date, datetime.time,
                datetime.timedelta, datetime.tzinfo)
# Values that are singletons by name (classes, functions, typing.Any).
_NAMED_TYPES = (type, types.FunctionType, types.BuiltinFunctionType, type(typing.Any))


class Comparer:
    """Walks two object graphs in step. Identity must correspond one to one: if a[0] is
    a[1] then b[0] is b[1], and not the other way round either."""

    def __init__(self):
        self.a_to_b = {}
        self.b_to_a = {}
        self.keep = []  # keeps compared objects alive so their ids stay unique

    def same(self, a, b, path='root'):
        if type(a) is not type(b):
            raise Mismatch(f'{path}: type {type(a).__name__} != {type(b).__name__}')
        if isinstance(a, float):
            if struct.pack('<d', a) != struct.pack('<d', b) and not (math.isnan(a) and math.isnan(b)):
                raise Mismatch(f'{path}: {a!r} != {b!r}')
            return
        if isinstance(a, _VALUE_TYPES):
            if a != b or repr(a) != repr(b):
                raise Mismatch(f'{path}: {a!r} != {b!r}')
            return
        if isinstance(a, _NAMED_TYPES) or a is typing.Any:
            if a is not b:
                raise Mismatch(f'{path}: {a!r} is not {b!r}')
            return
        if self._seen(a, b, path):
            return
        self._compare_contents(a, b, path)

    def _seen(self, a, b, path):
        ia, ib = id(a), id(b)
        if ia in self.a_to_b or ib in self.b_to_a:
            if self.a_to_b.get(ia) is not b or self.b_to_a.get(ib) is not a:
                raise Mismatch(f'{path}: sharing differs (an object is shared in one graph '
                               'and not in the other)')
            return True
        self.a_to_b[ia] = b
        self.b_to_a[ib] = a
        self.keep += [a, b]
        return False

    def _compare_contents(self, a, b, path):
        import numpy
        if isinstance(a, numpy.dtype):
            if a != b:
                raise Mismatch(f'{path}: dtype {a} != {b}')
            return
        if isinstance(a, (numpy.ndarray, numpy.generic)):
            if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
                raise Mismatch(f'{path}: numpy {a!r} != {b!r}')
            return
        if isinstance(a, (tuple, list)):
            if len(a) != len(b):
                raise Mismatch(f'{path}: length {len(a)} != {len(b)}')
            for i, (x, y) in enumerate(zip(a, b)):
                self.same(x, y, f'{path}[{i}]')
        elif isinstance(a, dict):
            if len(a) != len(b):
                raise Mismatch(f'{path}: {len(a)} entries != {len(b)}')
            for i, ((ka, va), (kb, vb)) in enumerate(zip(a.items(), b.items())):
                self.same(ka, kb, f'{path}.key#{i}')
                self.same(va, vb, f'{path}[{ka!r}]')
            if hasattr(a, 'default_factory'):
                self.same(a.default_factory, b.default_factory, f'{path}.default_factory')
        elif isinstance(a, (set, frozenset, bytearray)):
            if a != b:
                raise Mismatch(f'{path}: {a!r} != {b!r}')
        self._compare_attributes(a, b, path)

    def _compare_attributes(self, a, b, path):
        if hasattr(a, '__dict__') and not isinstance(a, type):
            self.same(vars(a), vars(b), f'{path}.__dict__')
        for klass in type(a).__mro__:
            for slot in getattr(klass, '__slots__', ()):
                if slot in ('__dict__', '__weakref__'):
                    continue
                has_a, has_b = hasattr(a, slot), hasattr(b, slot)
                if has_a != has_b:
                    raise Mismatch(f'{path}.{slot}: set in one object only')
                if has_a:
                    self.same(getattr(a, slot), getattr(b, slot), f'{path}.{slot}')


def compare(a, b):
    """None when equal (with the same sharing), else the first difference."""
    try:
        Comparer().same(a, b)
        return None
    except Mismatch as e:
        return str(e)
