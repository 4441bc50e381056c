"""Python values for the pickle round-trip test (tests/unit/pickle_test.cpp).

  pickle_cases.py gen DIR            writes DIR/<case>.p<protocol>.pkl, protocols 0..5
  pickle_cases.py check IN OUT       loads IN/<f> and OUT/<f> for every file of IN,
                                     compares values, exact types and sharing, checks
                                     that OUT uses only the allowed opcodes
"""
import collections
import datetime
import os
import pickle
import sys

sys.setrecursionlimit(20000)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy  # noqa: E402
from omegaconf import DictConfig, ListConfig, OmegaConf  # noqa: E402

from pickle_compare import compare, opcode_problems  # noqa: E402


class Point:
    """A plain class whose instances pickle through __dict__."""

    def __init__(self, x, y):
        self.x = x
        self.y = y
        self.tags = ['a', 'b']


class Slotted:
    __slots__ = ('a', 'b')

    def __init__(self):
        self.a = 1  # b stays unset on purpose


class KeywordOnly:
    """__getnewargs_ex__ with keywords: NEWOBJ_EX at protocol 4+, copyreg.__newobj_ex__ below."""

    def __new__(cls, *, size):
        obj = super().__new__(cls)
        obj.size = size
        return obj

    def __getnewargs_ex__(self):
        return (), {'size': self.size}


def _shared():
    x = [1, 2]
    d = {'k': 'v'}
    return [x, x, d, (x, d), {'again': x}]


def _self_list():
    a = [1]
    a.append(a)
    return a


def _tuple_cycle():
    a = []
    t = (a, 5)
    a.append(t)
    return t


def _long_tuple_cycle():
    a = []
    t = (a, 1, 2, 3)  # more than 3 elements: CPython uses MARK ... POP_MARK
    a.append(t)
    return [t, a]


def _self_dict():
    d = {'n': 1}
    d['self'] = d
    return d


def _point():
    p = Point(1, [2.5])
    p.me = p
    return [p, p, Point('q', None)]


def _dictconfig():
    cfg = OmegaConf.create({
        'a': 1,
        'b': {'c': [1, 2, {'d': 'x'}], 'e': '${a}'},
        'm': '???',
        'f': 1.5,
        'n': None,
        'solver': {'lr': 1e-4, 'name': 'musicgen', 'flag': True},
    })
    return {'xp.cfg': cfg, 'list': OmegaConf.create([1, '${0}', {'z': 2}])}


def _nested(depth):
    root = []
    cur = root
    for _ in range(depth):
        nxt = []
        cur.append(nxt)
        cur = nxt
    return root


CASES = {
    'nested': {'a': [1, 2, (3, 4.5, {'x': None})], 'b': {'c': {'d': [True, False]}}, 't': (),
               'l': [], 'tuple10': tuple(range(10)), 1: 'int key', (1, 'a'): 'tuple key',
               None: 'none key'},
    'scalars': [None, True, False, 0, -1],
    'ints': [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**31, 2**63 - 1, -2**63,
             2**63, -2**63 - 1, 2**64, 10**40, -10**40, 2**2100, -(2**2100)],
    'floats': [0.0, -0.0, 1.5, -2.25e-300, float('inf'), float('-inf'), float('nan'), 1e308,
               5e-324, 0.1],
    'unicode': ['', 'abc', 'h\u00e9llo', '\u65e5\u672c\u8a9e', '\U0001f600', 'line\nbreak\\back',
                '\x00\r\x1a', 'quote\'"', 'a' * 300, '\\u0041 literal', '\ud800'],
    'bytes': [b'', b'abc', bytes(range(256)), bytearray(b'xy\x00\xff'), bytearray()],
    'sets': [{1, 2, 3}, frozenset({'a', (1, 2)}), set(), frozenset(), {frozenset({1})}],
    'complex': [complex(1, -2)],
    'shared': _shared(),
    'self_list': _self_list(),
    'tuple_cycle': _tuple_cycle(),
    'long_tuple_cycle': _long_tuple_cycle(),
    'self_dict': _self_dict(),
    'ordered_dict': collections.OrderedDict([('b', 1), ('a', [1, 2])]),
    'defaultdict': collections.defaultdict(list, {'x': [1], 'y': []}),
    'counter': collections.Counter('abracadabra'),
    'numpy': [numpy.float32(1.5), numpy.int64(-3), numpy.arange(6, dtype=numpy.int16).reshape(2, 3)],
    'dictconfig': _dictconfig(),
    'datetime': [datetime.datetime(2024, 1, 2, 3, 4, 5, 6789), datetime.date(1999, 12, 31),
                 datetime.timedelta(days=-1, seconds=5),
                 datetime.datetime(2020, 5, 6, tzinfo=datetime.timezone.utc)],
    'instances': _point(),
    'slots': Slotted(),
    'keyword_only': KeywordOnly(size=7),
    'deep_500': _nested(500),
    'big_list': list(range(2500)),
    'big_dict': {f'k{i}': i for i in range(2500)},
}


# Opcodes Python 3's pickler never writes (Python 2 and other tools do), hand-assembled.
RAW = {
    'raw_inst': b"(i__main__\nPoint\np0\n(dp1\nVx\np2\nI1\nsVtags\np3\n(lp4\nsb.",
    'raw_inst_args': b"(F1.0\nF2.0\ni__builtin__\ncomplex\np0\n.",
    'raw_obj': b"(c__main__\nPoint\nq\x00oq\x01}q\x02(X\x01\x00\x00\x00xK\x01X\x04\x00\x00\x00tags]ub.",
    'raw_binstring': b"\x80\x02]q\x00(U\x03abcq\x01T\x03\x00\x00\x00defq\x02h\x01e.",
    'raw_string': b"(lp0\nS'a\\x41\\n'\np1\naS\"q'\"\np2\nag1\na.",
    'raw_dup': b"\x80\x02]2a.",
    'raw_8byte_lengths': b"\x80\x04\x8d\x02\x00\x00\x00\x00\x00\x00\x00hi"
                         b"\x8e\x01\x00\x00\x00\x00\x00\x00\x00z\x86.",
}


def generate(folder):
    os.makedirs(folder, exist_ok=True)
    for name, data in RAW.items():
        pickle.loads(data)  # must be a valid pickle to Python itself
        with open(os.path.join(folder, f'{name}.pkl'), 'wb') as f:
            f.write(data)
    for name, value in CASES.items():
        for protocol in range(6):
            try:
                data = pickle.dumps(value, protocol=protocol)
            except TypeError:
                continue  # e.g. __slots__ without __getstate__ needs protocol 2+
            with open(os.path.join(folder, f'{name}.p{protocol}.pkl'), 'wb') as f:
                f.write(data)


def check(in_folder, out_folder):
    failures = []
    names = sorted(os.listdir(in_folder))
    for name in names:
        with open(os.path.join(in_folder, name), 'rb') as f:
            original = pickle.load(f)
        with open(os.path.join(out_folder, name), 'rb') as f:
            data = f.read()
        problems = opcode_problems(data)
        try:
            copy = pickle.loads(data)
        except Exception as e:  # report every file, not just the first
            failures.append(f'{name}: does not load: {e!r}')
            continue
        difference = compare(original, copy)
        if difference:
            problems.append(difference)
        problems += _dictconfig_problems(original, copy)
        failures += [f'{name}: {p}' for p in problems]
    for line in failures:
        print(line, file=sys.stderr)
    print(f'checked {len(names)} files, {len(failures)} problems')
    return 1 if failures else 0


def _dictconfig_problems(original, copy):
    if not isinstance(original, dict) or 'xp.cfg' not in original:
        return []
    problems = []
    for key in ('xp.cfg', 'list'):
        a, b = original[key], copy[key]
        if type(a) is not type(b) or type(a) not in (DictConfig, ListConfig):
            problems.append(f'{key}: type {type(b).__name__}')
        elif OmegaConf.to_yaml(a) != OmegaConf.to_yaml(b):
            problems.append(f'{key}: YAML differs:\n{OmegaConf.to_yaml(b)}')
    if copy['xp.cfg'].b.e != 1 or not OmegaConf.is_missing(copy['xp.cfg'], 'm'):
        problems.append('xp.cfg: interpolation or ??? lost')
    return problems


if __name__ == '__main__':
    if sys.argv[1] == 'gen':
        generate(sys.argv[2])
    elif sys.argv[1] == 'check':
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(f'unknown command {sys.argv[1]}')
