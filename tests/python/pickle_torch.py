"""Real torch.save files for the pickle round-trip test (tests/unit/pickle_test.cpp).

  pickle_torch.py gen DIR        writes DIR/<name>.pt with torch.save and extracts its
                                 data.pkl to DIR/<name>.data.pkl
  pickle_torch.py check DIR OUT  for each OUT/<name>.data.pkl (our re-pickled stream):
                                 - loads it and the original symbolically (storages and
                                   torch callables become plain records) and compares
                                   structure, types and sharing;
                                 - puts it into a copy of <name>.pt and checks that
                                   torch.load gives equal tensors (same views, dtypes,
                                   sharing); weights_only=True for plain state dicts;
                                 - checks that only the allowed opcodes are used.
"""
import collections
import io
import os
import pickle
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from pickle_compare import Comparer, Mismatch, opcode_problems  # noqa: E402


def _module():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3),
                               torch.nn.Embedding(5, 2))


def _training_checkpoint():
    model = _module()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss = model[1](model[0](torch.randn(2, 4))).sum()
    loss.backward()
    opt.step()
    sd = model.state_dict()
    base = torch.arange(12, dtype=torch.float32)
    cfg = OmegaConf.create({'fsdp': {'use': True, 'param_dtype': 'float16'},
                            'optim': {'lr': 1e-3, 'betas': [0.9, 0.95]}, 'label': '${fsdp.use}',
                            'missing': '???'})
    return {
        'history': [{'train': {'loss': 1.25, 'ce': 2.5}}, {'train': {'loss': 1.0}}],
        'xp.cfg': cfg,
        'xp.sig': '0f3a9b2c',
        'model': sd,
        'best_state': {'model': {k: v.half() for k, v in sd.items()}},
        'fsdp_best_state': {'model': {}},
        'optimizer': opt.state_dict(),
        'ema': {'state': {'model': sd}},
        'views': [base, base[2:7], base.view(3, 4), base.view(3, 4).t()],
        'param': torch.nn.Parameter(torch.ones(2, 2)),
        'misc': [torch.tensor(3, dtype=torch.int64), torch.zeros(0), torch.ones(3, dtype=torch.bool),
                 torch.randn(2, 3).to(torch.bfloat16), torch.arange(4, dtype=torch.int8)],
    }


SAVES = {
    'state_dict': lambda: _module().state_dict(),
    'training': _training_checkpoint,
}


def generate(folder):
    os.makedirs(folder, exist_ok=True)
    for name, make in SAVES.items():
        path = os.path.join(folder, name + '.pt')
        torch.save(make(), path)
        with zipfile.ZipFile(path) as z:
            entry = next(n for n in z.namelist() if n.endswith('/data.pkl'))
            with open(os.path.join(folder, name + '.data.pkl'), 'wb') as f:
                f.write(z.read(entry))


# ---- symbolic loading: nothing from torch is called

class Record:
    """A torch global, or what calling one would have returned."""

    def __init__(self, kind, name, args=()):
        self.kind = kind
        self.name = name
        self.args = args

    def __call__(self, *args):
        return Record('call', self.name, args)

    def __setstate__(self, state):
        self.state = state


class SymbolicUnpickler(pickle.Unpickler):
    def __init__(self, data):
        super().__init__(io.BytesIO(data))
        self.globals = {}
        self.storages = {}

    def find_class(self, module, name):
        if module.startswith('torch'):
            key = f'{module}.{name}'
            return self.globals.setdefault(key, Record('global', key))
        return super().find_class(module, name)

    def persistent_load(self, pid):
        # ('storage', storage class, key, location, numel): one record per key, as torch does.
        kind, cls, key, location, numel = pid
        return self.storages.setdefault(key, Record('storage', key, (kind, cls, location, numel)))


# ---- loading for real, comparing tensors

class TensorComparer(Comparer):
    def __init__(self):
        super().__init__()
        self.storages = {}

    def _compare_contents(self, a, b, path):
        if isinstance(a, torch.Tensor):
            if (a.dtype, a.shape, a.stride(), a.storage_offset(), a.requires_grad) != \
                    (b.dtype, b.shape, b.stride(), b.storage_offset(), b.requires_grad):
                raise Mismatch(f'{path}: tensor layout differs')
            if not torch.equal(a, b):
                raise Mismatch(f'{path}: tensor values differ')
            pa, pb = a.storage().data_ptr(), b.storage().data_ptr()
            if self.storages.setdefault(pa, pb) != pb:
                raise Mismatch(f'{path}: storage sharing differs')
            return
        super()._compare_contents(a, b, path)


def _replace_data_pkl(original_path, data, new_path):
    with zipfile.ZipFile(original_path) as src, zipfile.ZipFile(new_path, 'w', zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            payload = data if info.filename.endswith('/data.pkl') else src.read(info.filename)
            dst.writestr(info.filename, payload)


def check(folder, out_folder):
    problems = []
    for name in SAVES:
        original_data = open(os.path.join(folder, name + '.data.pkl'), 'rb').read()
        data = open(os.path.join(out_folder, name + '.data.pkl'), 'rb').read()
        problems += [f'{name}: {p}' for p in opcode_problems(data)]
        try:
            a = SymbolicUnpickler(original_data).load()
            b = SymbolicUnpickler(data).load()
            Comparer().same(a, b)
        except Exception as e:
            problems.append(f'{name}: symbolic comparison: {e}')
        repacked = os.path.join(out_folder, name + '.pt')
        _replace_data_pkl(os.path.join(folder, name + '.pt'), data, repacked)
        try:
            ta = torch.load(os.path.join(folder, name + '.pt'))
            tb = torch.load(repacked)
            TensorComparer().same(ta, tb)
            if name == 'state_dict':
                tw = torch.load(repacked, weights_only=True)
                TensorComparer().same(ta, tw)
                if not isinstance(tw, collections.OrderedDict) or not hasattr(tw, '_metadata'):
                    problems.append(f'{name}: weights_only load lost OrderedDict/_metadata')
        except Exception as e:
            problems.append(f'{name}: torch.load comparison: {e!r}')
    for line in problems:
        print(line, file=sys.stderr)
    print(f'checked {len(SAVES)} checkpoints, {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    if sys.argv[1] == 'gen':
        generate(sys.argv[2])
    elif sys.argv[1] == 'check':
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(f'unknown command {sys.argv[1]}')
